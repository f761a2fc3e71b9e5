"""The types a layer may give its attributes (layer.yaml `types:`) and whether a value fits one: the floor under both the
layer files (stackkit.config.layerspec checks a layer's defaults) and the stack checks (stackkit.config.attribute_types).

A type is a mapping: `{type: int, min: 0, max: 300}`, `{type: bool}`, `{type: choice, of: [zeo, relstorage]}` or one of
the string kinds in `KINDS`; `nullable: true` allows null, `or: [auto]` allows those literal values too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from stackkit.config.calendar import calendar_problem

# string kinds: (pattern, what a valid value looks like, maximum length)
KINDS: dict[str, tuple[str, str, int]] = {
    "size": (r"^[0-9]+[kKmMgG]?$", "a size such as 64m, 512k or 1g (nginx/varnish units)", 20),
    "zconfig_size": (r"^[0-9]+(KB|MB|GB)?$", "a size such as 128MB or 1GB (ZConfig byte-size)", 20),
    "urlpath": (r"^/[A-Za-z0-9._~/?&=+,:@!*-]*$",
                "a URL path starting with / (letters, digits and ._~/?&=+,:@!*- only)", 1024),
    "relpath": (r"^(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._-][A-Za-z0-9._/-]*$",
                "a relative file path inside the app's repository (no .., no leading /)", 255),
    "version": (r"^[0-9]+(\.[0-9]+)*((a|b|rc|\.post|\.dev)[0-9]+)?$", "a release version such as 6.2 or 6.0.0", 40),
    "calendar": (r"^[A-Za-z0-9*:,./~ -]+$", "a systemd OnCalendar expression such as '*-*-* 02:30:00'", 100),
    "s3_bucket": (r"^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                  "an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens; S3 bucket naming rules)", 63),
    # a Zope object id, as the frontend rewrites URLs to /<id>/ (nginx): OFS's id rules, at most 64 characters
    "zope_id": (r"^[A-Za-z0-9-][A-Za-z0-9._-]*$",
                "a Zope object id (letters, digits, '.', '_', '-', not starting with '.' or '_')", 64),
    # free text that templates only ever pass to bash as one quoted word (never into a daemon's config)
    "command": (r"^[^\x00-\x08\x0a-\x1f\x7f]*$", "a shell command (one line, no control characters)", 4096),
}
TYPES = {"int", "bool", "choice", *KINDS}


def type_problem(t: dict[str, Any]) -> str | None:
    """Whether a declared type is itself valid (layer.yaml is code, but its mistakes are still said clearly)."""
    kind = t.get("type")
    if kind not in TYPES:
        return f"unknown type {kind!r} (known: {', '.join(sorted(TYPES))})"
    if kind == "choice" and not t.get("of"):
        return "a choice needs `of: [...]`"
    unknown = set(t) - {"type", "min", "max", "of", "nullable", "or"}
    if unknown:
        return f"unknown type keys {sorted(unknown)}"
    return None


def value_problem(t: dict[str, Any], value: Any) -> str | None:
    """None if `value` fits the type `t`, else what is wrong and what would fit."""
    if value is None:
        return None if t.get("nullable") else "must be set (null is not allowed here)"
    if value in t.get("or", []) and not isinstance(value, bool):
        return None
    also = "".join(f" or {v!r}" for v in t.get("or", []))
    kind = t["type"]
    if kind == "bool":
        return None if isinstance(value, bool) else f"{value!r} must be true or false"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{value!r} must be a whole number{also} (no quotes)"
        lo, hi = t.get("min"), t.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{value} is out of range: {lo if lo is not None else '…'} to {hi if hi is not None else '…'}{also}"
        return None
    if kind == "choice":
        return None if value in t["of"] else f"{value!r} must be one of {', '.join(map(str, t['of']))}"
    pattern, looks, longest = KINDS[kind]
    if not isinstance(value, str):
        return f"{value!r} must be {looks}{also}"
    if len(value) > longest:
        return f"is {len(value)} characters long; at most {longest}"
    if not re.fullmatch(pattern, value):
        return f"{value[:80]!r} is not {looks}{also}"
    if kind == "calendar":
        return calendar_problem(value)
    return None


def attribute_leaves(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from attribute_leaves(value, dotted + ".")
        else:
            yield dotted, value
