"""Where a secret may be: the exact config paths the schema types as secret (`SecretStr` fields of
stackkit.config.models), read from the models, never by searching rendered text.

A `secure:` value anywhere else (an app's `environment`, a tag, a URL...) would be used as plain text: it is refused at
load with its path and where such a value belongs. A secret field holding plain text is refused too, per exact path.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from pydantic import BaseModel, SecretStr

from stackkit.config.models import StackConfig

NAMESPACE = "stackkit"
Pattern = tuple[str, ...]      # config path parts; "*" is any one key of a mapping or item of a list


def _patterns(annotation: Any, prefix: Pattern) -> Iterator[Pattern]:
    origin = typing.get_origin(annotation)
    if annotation is SecretStr:
        yield prefix
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _patterns(field.annotation, (*prefix, name))
    elif origin is typing.Annotated:
        yield from _patterns(typing.get_args(annotation)[0], prefix)
    elif origin in (dict, list):
        yield from _patterns(typing.get_args(annotation)[-1], (*prefix, "*"))
    elif origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(annotation):
            yield from _patterns(arm, prefix)


@cache
def secret_patterns() -> tuple[Pattern, ...]:
    """Every secret field of the stack config, e.g. ('apps', '*', 'secret_environment', '*')."""
    return tuple(sorted(set(_patterns(StackConfig, ()))))


def split(path: str) -> Pattern:
    """'stackkit:apps.site.environment.X' or 'apps.a.domains[0]' -> ('apps', 'site', 'environment', 'X')."""
    path = path.removeprefix(f"{NAMESPACE}:")
    parts: list[str] = []
    for part in path.split("."):
        name, _, rest = part.partition("[")
        parts.append(name)
        parts.extend(i.rstrip("]") for i in rest.split("[") if rest)
    return tuple(parts)


def is_secret_path(path: str) -> bool:
    parts = split(path)
    return any(len(p) == len(parts) and all(a in ("*", b) for a, b in zip(p, parts, strict=True))
               for p in secret_patterns())


def _belongs(parts: Pattern) -> str:
    if len(parts) == 4 and parts[0] == "apps" and parts[2] == "environment":
        return f"move it to apps.{parts[1]}.secret_environment.{parts[3]} (the app's secret environment)"
    if len(parts) >= 3 and parts[0] == "apps" and parts[2] == "source":
        return (f"a repository's credentials go in apps.{parts[1]}.source.username and the secret "
                f"apps.{parts[1]}.source.password, never in the URL")
    shown = ", ".join(".".join(p) for p in secret_patterns())
    return f"write it as plain text, or if it is a secret, it belongs in one of the secret fields ({shown})"


def misplaced_secure(paths: Iterable[str]) -> list[str]:
    """'path: problem' for every `secure:` value of the stackkit: namespace outside a secret field."""
    out = []
    for path in sorted(paths):
        if not path.startswith(f"{NAMESPACE}:") or is_secret_path(path):
            continue
        parts = split(path)
        out.append(f"{'.'.join(parts)}: a secure value where the schema has no secret field, so it would be used as "
                   f"plain text; {_belongs(parts)}")
    return out


def quoted(text: str) -> str:
    """`text` as one shell word in single quotes, always (a path pasted into a shell never splits nor expands)."""
    return "'" + text.replace("'", "'\\''") + "'"


def plaintext_message(path: str) -> str:
    return (f"{path}: is plaintext in the stack file; store it encrypted, read from a file or stdin: "
            f"pulumi config set --secret --path {quoted(f'{NAMESPACE}:{path}')} < value-file")


def plaintext_secrets(config: dict[str, Any], secure: Iterable[str]) -> list[str]:
    """'path: problem' for every text at a secret field of a stack file's config that is not a secure value."""
    secure = set(secure)
    out: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str) and path not in secure and is_secret_path(path):
            out.append(plaintext_message(path.removeprefix(f"{NAMESPACE}:")))

    for key, value in config.items():
        if key.startswith(f"{NAMESPACE}:"):
            walk(value, key)
    return out


def set_secret_command(path: str, stack: str) -> str:
    """A line safe to paste: the key or path and the stack always quoted, the value read from stdin (a file, or Pulumi's
    hidden prompt), never on the command line where the shell history and the process list would keep it."""
    key, dot, _ = path.partition(".")
    base = f"pulumi config set --secret{' --path' if dot else ''} {quoted(path)} --stack {quoted(stack)}"
    if path == f"{NAMESPACE}:stack.ssh_private_key":
        return f"{base} < ~/.ssh/stackkit"
    return f"{base} < value-file    # or without '< value-file': Pulumi prompts for it, hidden"
