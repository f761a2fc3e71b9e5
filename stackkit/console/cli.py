"""`python -m stackkit console STACK [--local] [--serve PORT | --out DIR]`: the stack's console page."""

from __future__ import annotations

import argparse
from pathlib import Path

from stackkit.console import page, source
from stackkit.local.cli import DEFAULT_WORKDIR


def run(args: argparse.Namespace) -> int:
    def stack():  # type: ignore[no-untyped-def]
        if args.local:
            return source.local_stack(args.stack, Path(args.workdir))
        return source.project_stack(args.stack)

    selected = stack()
    if args.serve:
        page.serve(lambda: source.read(selected), args.serve, host=args.host)
        return 0
    written = page.write(source.read(selected), Path(args.out))
    print(f"stackkit console: {written}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="the stack's console page: layers, instances, apps, the last lifecycle runs")
    p.add_argument("stack", help="the Pulumi stack's name")
    p.add_argument("--local", action="store_true", help="a local stack (python -m stackkit local up STACK)")
    p.add_argument("--workdir", default=str(DEFAULT_WORKDIR), help="the local cloud's folder (%(default)s)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--serve", type=int, metavar="PORT", help="serve the page on PORT, read anew on each request")
    where.add_argument("--out", default="console", metavar="DIR", help="write DIR/index.html (default: %(default)s)")
    p.add_argument("--host", default="127.0.0.1", help="the address --serve listens on (%(default)s)")
    p.set_defaults(fn=run)
