"""python -m stackkit: schema | plan | clone | graph | docs | secrets | local | console. Errors print without a traceback."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stackkit.errors import StackkitError
from stackkit.paths import ROOT


def _stack_path(stack: str | None, config: str | None) -> Path:
    if config:
        return Path(config)
    if not stack:
        raise StackkitError("name a stack (plan production) or a stack file (--config examples/Pulumi.relstorage.yaml)")
    return ROOT / f"Pulumi.{stack}.yaml"


def cmd_schema(args: argparse.Namespace) -> int:
    from stackkit.config.schema import schema
    print(json.dumps(schema(), indent=2, sort_keys=False))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from stackkit.plan.evaluate import evaluate
    from stackkit.plan.show import tree

    path = _stack_path(args.stack, args.config)
    if args.against:
        from stackkit.plan.against import against, render
        diff = against(args.against, path)
        print(render(diff, as_json=args.json))
        return 1 if diff["refused"] else 0
    plan = evaluate(path)
    print(json.dumps(plan.to_json(), indent=1, sort_keys=True) if args.json else tree(plan))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stackkit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("schema", help="print the JSON Schema of the stack config")
    p.set_defaults(fn=cmd_schema)
    p = sub.add_parser("plan", help="evaluate a stack offline under Pulumi's mock runtime and print its resources")
    p.add_argument("stack", nargs="?", help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--config", help="any stack file instead (e.g. examples/Pulumi.relstorage.yaml)")
    p.add_argument("--json", action="store_true", help="print {stack, project, resources: [...]} as JSON")
    p.add_argument("--against", metavar="FILE|REV",
                   help="lifecycle diff from the real engine: which scripts an up would run, against an older stack "
                        "file or a git revision (needs Pulumi's CLI and a network namespace: docs/lifecycle.md)")
    p.set_defaults(fn=cmd_plan)
    for extra in _extra_commands():
        extra(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except StackkitError as exc:
        print(f"stackkit: {exc}", file=sys.stderr)
        return 1


def _extra_commands() -> list:
    """Sub-commands that live in their own modules. Imported, not probed: a broken module is an error, never a
    sub-command that silently disappears."""
    import importlib

    modules = ("stackkit.clone", "stackkit.graph", "stackkit.docs", "stackkit.secrets", "stackkit.local.cli",
               "stackkit.console.cli")
    return [importlib.import_module(m).register for m in modules]
