"""`python -m stackkit clone <src> <dst> --region <region>`: Pulumi.<dst>.yaml from Pulumi.<src>.yaml for another region,
comments and key order kept (ruamel.yaml round trip).

Secure values are not copied: their ciphertext belongs to the source stack's secrets provider and would not decrypt
in the new stack. They are left out, and the report lists the `pulumi config set --secret` line to run for each — or
use `pulumi stack init <dst> --copy-config-from <src>`, which re-encrypts them, and then change the region.
"""

from __future__ import annotations

import argparse
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from stackkit.config.aws_rules import REGIONS
from stackkit.config.secret_paths import set_secret_command
from stackkit.config.stackfile import read_text
from stackkit.errors import ConfigError, StackkitError
from stackkit.paths import ROOT
from stackkit.yamltext import parse_yaml

STACK_SECRETS = ("encryptionsalt", "secretsprovider", "encryptedkey")
# Pulumi stack names: letters, digits, '-', '_' and '.'; stackkit also wants a letter or digit first, so that a name is
# a file name in this folder (Pulumi.<name>.yaml) and never a path ('../x', '/tmp/x') or an option ('-x').
STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
STACKKIT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")   # stackkit:stack.name (models.Name)


def check_names(src: str, dst: str, region: str, name: str | None) -> None:
    """Refuse a bad argument before any file is read or written."""
    problems = [f"{what}: {value!r} is not a stack name: letters, digits, '-', '_' and '.', starting with a letter or "
                "digit (Pulumi stack names; Pulumi.<name>.yaml in this folder)"
                for what, value in (("src", src), ("dst", dst)) if not STACK_NAME.fullmatch(value)]
    if not problems and src == dst:
        problems.append(f"dst: {dst!r} is the source stack; a clone is a new stack: name another one")
    if region not in REGIONS:
        problems.append(f"--region: {region!r} is not an AWS region stackkit knows (known: {', '.join(sorted(REGIONS))})")
    if name is not None and not STACKKIT_NAME.fullmatch(name):
        problems.append(f"--name: {name!r} is not a valid name: lowercase letters, digits and '-', starting with a "
                        "letter, at most 40")
    if problems:
        raise StackkitError("clone: " + "; ".join(problems))


@dataclass
class CloneReport:
    destination: Path
    secrets: list[str] = field(default_factory=list)          # config paths whose values must be set again
    dropped: list[str] = field(default_factory=list)          # stack-level keys of the source's secrets provider

    def commands(self, dst: str) -> list[str]:
        return [set_secret_command(path, dst) for path in self.secrets]

    def text(self, src: str, dst: str) -> str:
        lines = [f"wrote {self.destination}"]
        if self.dropped:
            lines.append(f"left out {', '.join(self.dropped)}: they belong to {src}'s secrets provider; "
                         f"`pulumi stack init {dst}` creates {dst}'s own")
        if self.secrets:
            lines.append(f"{len(self.secrets)} secret value(s) were not copied (the ciphertext only decrypts in {src}); "
                         "set them:")
            lines += [f"  {c}" for c in self.commands(dst)]
            lines.append(f"or create the stack with `pulumi stack init {dst} --copy-config-from {src}` (re-encrypts the "
                         "secrets), then set aws:region")
        return "\n".join(lines)


def _strip_secure(node: Any, path: str, found: list[str]) -> None:
    if isinstance(node, CommentedMap):
        for key in list(node):
            value = node[key]
            child = f"{path}.{key}" if path else str(key)
            if isinstance(value, dict) and set(value) == {"secure"}:
                found.append(child)
                del node[key]
            else:
                _strip_secure(value, child, found)
    elif isinstance(node, CommentedSeq):
        for i, value in enumerate(node):
            _strip_secure(value, f"{path}[{i}]", found)


def clone(src: Path, dst: Path, region: str, name: str | None = None, force: bool = False) -> CloneReport:
    if region not in REGIONS:
        raise ConfigError([f"--region: {region!r} is not an AWS region stackkit knows (known: {', '.join(sorted(REGIONS))})"])
    if dst.exists() and src.exists() and dst.resolve() == src.resolve():
        raise StackkitError(f"{dst} is the source stack file; a clone is written to a new file (--force does not "
                            "overwrite the source: it would lose its secrets)")
    text = read_text(src)
    if dst.is_dir():
        raise StackkitError(f"{dst} is a folder; name a stack file")
    if dst.exists() and not force:
        raise StackkitError(f"{dst} exists already; remove it, or pass --force to overwrite it")
    parse_yaml(text, src)     # the strict reading first: what it refuses is never round-tripped
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    try:
        doc = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError([f"{src}: not valid YAML: {str(exc).splitlines()[0] if str(exc) else exc!r}"]) from None
    if not isinstance(doc, CommentedMap) or not isinstance(doc.get("config"), CommentedMap):
        raise StackkitError(f"{src}: has no `config:` mapping")
    report = CloneReport(destination=dst)
    for key in STACK_SECRETS:
        if key in doc:
            del doc[key]
            report.dropped.append(key)
    config = doc["config"]
    config["aws:region"] = region
    if name is not None:
        stack = config.get("stackkit:stack")
        if not isinstance(stack, CommentedMap):
            raise StackkitError(f"{src}: has no stackkit:stack mapping to rename")
        stack["name"] = name
    _strip_secure(config, "", report.secrets)
    out = io.StringIO()
    yaml.dump(doc, out)
    try:
        dst.write_text(out.getvalue())
    except OSError as exc:
        raise StackkitError(f"{dst}: cannot be written ({exc.strerror or exc})") from None
    return report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("clone", help="write Pulumi.<dst>.yaml from Pulumi.<src>.yaml for another region")
    p.add_argument("src", help="source stack (Pulumi.<src>.yaml)")
    p.add_argument("dst", help="new stack (Pulumi.<dst>.yaml)")
    p.add_argument("--region", required=True, help="AWS region of the new stack, e.g. eu-central-1")
    p.add_argument("--name", help="a new stackkit:stack.name (defaults to the source's)")
    p.add_argument("--force", action="store_true", help="overwrite an existing Pulumi.<dst>.yaml")

    def run(args: argparse.Namespace) -> int:
        check_names(args.src, args.dst, args.region, args.name)
        report = clone(ROOT / f"Pulumi.{args.src}.yaml", ROOT / f"Pulumi.{args.dst}.yaml", args.region, args.name,
                       args.force)
        print(report.text(args.src, args.dst))
        return 0

    p.set_defaults(fn=run)
