"""The console page: one static HTML file from the view model (stackkit.console.model), jinja2 with autoescape on
(every value from the state is escaped) and StrictUndefined; no JavaScript. `write` puts it in a folder, `serve`
answers it over HTTP, read again from the stack on each request."""

from __future__ import annotations

import contextlib
import http.server
from collections.abc import Callable
from pathlib import Path

import jinja2

from stackkit.console.model import SECRET, Console

TEMPLATES = Path(__file__).resolve().parent / "templates"


def render(console: Console) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("console.html.j2").render(c=console, SECRET=SECRET)


def write(console: Console, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(render(console))
    return page


def serve(read: Callable[[], Console], port: int, host: str = "127.0.0.1") -> None:
    """Serve the page on host:port until interrupted, built anew from the stack on each request of `/`."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            body = render(read()).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with http.server.ThreadingHTTPServer((host, port), Handler) as server:
        print(f"stackkit console: http://{host}:{port}/ (Ctrl-C ends it)")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
