"""`python -m stackkit secrets STACK` (or `--config FILE`): the secure values a stack file holds, which of them are
still the shipped placeholders, and the `pulumi config set --secret` line to set each (safe to paste: every path
quoted, the value read from stdin). Reads the file only: a secret's value is never decrypted nor printed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stackkit.config.secret_paths import set_secret_command as command
from stackkit.config.stackfile import read_text, stack_path
from stackkit.yamltext import parse_yaml

PLACEHOLDER = "v1:placeholder"     # the ciphertext the shipped stack files carry: not a value, a reminder


def secure_values(path: Path) -> list[tuple[str, bool]]:
    """(Pulumi config path, is a placeholder) of every `secure:` value, in file order."""
    doc = parse_yaml(read_text(path), path) or {}
    found: list[tuple[str, bool]] = []

    def walk(value: Any, dotted: str) -> None:
        if isinstance(value, dict) and set(value) == {"secure"}:
            found.append((dotted, str(value["secure"]).startswith(PLACEHOLDER)))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{dotted}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{dotted}[{i}]")

    for key, value in (doc.get("config") or {}).items():
        walk(value, key)
    return found


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("secrets", help="list a stack file's secure values, the placeholders still to set, and how")
    p.add_argument("stack", nargs="?", help="stack name: reads Pulumi.<stack>.yaml")
    p.add_argument("--config", help="any stack file instead")

    def run(args: argparse.Namespace) -> int:
        path = stack_path(args.stack, args.config)
        stack = args.stack or path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        values = secure_values(path)
        for dotted, placeholder in values:
            print(f"{'placeholder' if placeholder else 'set        '}  {dotted}")
        todo = [d for d, placeholder in values if placeholder]
        if todo:
            print(f"\n{len(todo)} placeholder(s) to set before `pulumi up -s {stack}`:")
            print("\n".join(command(d, stack) for d in todo))
        return 0

    p.set_defaults(fn=run)
