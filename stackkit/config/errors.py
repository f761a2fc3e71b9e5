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
    for part in loc[:-1]:
        if cur is None:
            return []
        if isinstance(part, int):
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
        elif kind == "literal_error":
            lines.append(f"{path}: {err['msg'].replace('Input should be', 'must be')}, not {err['input']!r}")
        else:
            msg = err["msg"]
            for prefix in ("Value error, ", "Assertion failed, "):
                msg = msg.removeprefix(prefix)
            msg = msg.replace("Input should be", "must be")
            lines.append(f"{path}: {msg}")
    return lines
