"""stackkit (or python -m stackkit): schema | plan | clone | graph | docs | secrets | local | import | console. Errors
print without a traceback."""

from __future__ import annotations

import argparse
import json
import sys

from stackkit import clone, docs, graph, importer, secrets
from stackkit.config.schema import schema
from stackkit.config.stackfile import stack_path
from stackkit.console import cli as console_cli
from stackkit.errors import StackkitError
from stackkit.local import cli as local_cli
from stackkit.plan.against import against, render
from stackkit.plan.evaluate import evaluate
from stackkit.plan.show import tree

# sub-commands that live in their own modules: each registers its own parser
EXTRA = (clone.register, graph.register, docs.register, secrets.register, local_cli.register, importer.register,
         console_cli.register)


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(schema(), indent=2, sort_keys=False))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    path = stack_path(args.stack, args.config)
    if args.against:
        diff = against(args.against, path)
        print(render(diff, as_json=args.json))
        return 1 if diff["refused"] else 0
    plan = evaluate(path)
    print(json.dumps(plan.to_json(), indent=1, sort_keys=True) if args.json else tree(plan))
    return 0


def main(argv: list[str] | None = None, prog: str = "stackkit") -> int:
    """The `stackkit` command (pyproject's [project.scripts]); `python -m stackkit` is the same with its own name."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
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
    for register in EXTRA:
        register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.fn(args))
    except StackkitError as exc:
        print(f"stackkit: {exc}", file=sys.stderr)
        return 1
