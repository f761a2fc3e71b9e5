"""The e2e request loop (stackkit.local.traffic) against a loopback server: every URL it asks for is one no earlier
loop asked for (a frontend's varnish may still hold those and would answer without Zope), and failures are counted
with when they happened."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from stackkit.local.traffic import Traffic


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []
    fail_after = 10**9

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Recorder.seen.append(self.path)
        self.send_response(500 if len(Recorder.seen) > Recorder.fail_after else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Recorder.seen, Recorder.fail_after = [], 10**9
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def loop(url: str, requests: int) -> Traffic:
    traffic = Traffic(url, max_requests=requests, timeout=5)
    traffic.start()
    traffic.join(30)
    assert not traffic.is_alive()
    return traffic


def test_two_loops_never_ask_for_the_same_url(server: str) -> None:
    first = loop(server, 5)
    urls_first = set(Recorder.seen)
    second = loop(server, 5)
    urls_second = set(Recorder.seen) - urls_first
    assert (first.sent, first.failed, second.sent, second.failed) == (5, 0, 5, 0)
    assert len(urls_first) == 5 and len(urls_second) == 5, Recorder.seen


def test_a_failure_is_counted_with_its_number_and_time(server: str) -> None:
    Recorder.fail_after = 3
    t0 = time.monotonic()
    traffic = loop(server, 5)
    assert (traffic.sent, traffic.failed) == (5, 2)
    assert [e.split(" at ")[0] for e in traffic.errors] == ["#4", "#5"]
    seconds = [float(e.split(" at ")[1].split(" s:")[0]) for e in traffic.errors]
    assert all(0 <= s <= time.monotonic() - t0 for s in seconds), traffic.errors
    assert all("HTTP Error 500" in e for e in traffic.errors), traffic.errors
