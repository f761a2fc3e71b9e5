"""Turning pydantic's errors into one 'path: problem (fix)' line each."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError


def dotted(loc: tuple[Any, ...] | list[Any], root: str = "") -> str:
    out = root
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-", "union[", "tagged-union[")) or str(part) in (
                "FromLayers", "literal['internet','admin','local','stack']", "str", "int"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _allowed_keys(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """Walk `model` along `loc` (minus the last element) to list the keys allowed where an unknown key stood."""
    import typing

    cur: Any = model
    skip_key = False
    for part in loc[:-1]:
        if cur is None:
            return []
        if isinstance(part, int) or skip_key:
            skip_key = False
            continue
        if isinstance(cur, type) and issubclass(cur, BaseModel):
            field = cur.model_fields.get(str(part)) or next(
                (f for f in cur.model_fields.values() if f.alias == part), None)
            if field is None:
                return []
            cur = field.annotation
        else:
            cur = None
            continue
        # unwrap Optional / dict[str, X] / list[X]
        for _ in range(3):
            args = typing.get_args(cur)
            origin = typing.get_origin(cur)
            if origin in (dict,) and args:
                cur = args[1]
                skip_key = True
            elif origin in (list,) and args:
                cur = args[0]
            elif args:
                models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
                cur = models[0] if models else cur
                if not models:
                    break
            else:
                break
    if isinstance(cur, type) and issubclass(cur, BaseModel):
        return sorted((f.alias or n) for n, f in cur.model_fields.items() if not f.exclude)
    return []


PATTERN_HINTS = {
    r"^[a-z]{2}(-gov)?-[a-z]+-\d$": "is not an AWS region name (e.g. eu-west-1)",
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+( .*)?$":
        "is not an OpenSSH public key line (the content of ~/.ssh/id_ed25519.pub: ssh-ed25519 AAAA... comment)",
    r"^[a-z][a-z0-9-]{0,39}$": "is not a valid name: lowercase letters, digits and '-', starting with a letter, at most 40",
    r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$": ("is not a valid hostname: an RFC 1123 label of lowercase letters, digits and "
                                             "'-', starting with a letter, not ending with '-', at most 63"),
    r"^[a-z][a-z0-9-]*\.[a-z0-9-]+$": "is not an EC2 instance type (e.g. t3.small)",
}


def format_validation_error(exc: ValidationError, root: str, model: type[BaseModel] | None = None) -> list[str]:
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path = dotted(loc, root)
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
            lines.append(f"{path}: unknown key '{loc[-1]}'{hint}; remove it or fix its spelling")
        elif kind == "missing":
            lines.append(f"{path}: required; add it")
        elif kind == "string_pattern_mismatch":
            pattern = err.get("ctx", {}).get("pattern", "")
            lines.append(f"{path}: {err['input']!r} {PATTERN_HINTS.get(pattern, f'does not match {pattern}')}")
        elif kind in ("ip_v4_network", "ip_any_network"):
            lines.append(f"{path}: {err['input']!r} is not an IPv4 network in CIDR form (e.g. 203.0.113.0/24)")
        elif kind == "literal_error":
            lines.append(f"{path}: {err['msg'].replace('Input should be', 'must be')}, not {err['input']!r}")
        else:
            msg = err["msg"]
            for prefix in ("Value error, ", "Assertion failed, "):
                msg = msg.removeprefix(prefix)
            msg = msg.replace("Input should be", "must be")
            lines.append(f"{path}: {msg}")
    return lines
