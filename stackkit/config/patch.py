"""One way to write a change to a stack config, for the scenario tables, the benchmarks, the engine observations and
the invalid-config corpus: a mapping of dotted paths to values.

    {"instances.app6": {"layers": ["plone"]}}          set (the namespace defaults to stackkit:)
    {"stackkit:instances.web1.layers[0]": "plone"}     set a list item
    {"-instances.app5": None}                          delete
    {"aws:region": "eu-central-1"}                     a key of another namespace

Pure: the config given is never changed, and no value is shared between the configs (deep copies).
"""

from __future__ import annotations

import copy
import re
from typing import Any

Change = dict[str, Any]
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split(path: str) -> tuple[str, list[str | int]]:
    """'stackkit:instances.web1.layers[0]' or 'instances.web1.layers[0]' -> ('stackkit:instances', ['web1',
    'layers', 0]); 'aws:region' -> ('aws:region', [])."""
    ns, colon, rest = path.partition(":")
    if not colon:
        ns, rest = "stackkit", path
    key, _, rest = rest.partition(".")
    return f"{ns}:{key}", [int(i) if i else k for k, i in _PART.findall(rest)]


def apply(config: dict[str, Any], change: Change) -> dict[str, Any]:
    """`config` with `change` applied (a path starting with '-' deletes)."""
    out = copy.deepcopy(config)
    for path, value in change.items():
        delete = path.startswith("-")
        top, parts = split(path.lstrip("-"))
        if not parts:
            if delete:
                del out[top]
            else:
                out[top] = copy.deepcopy(value)
            continue
        cur = out.setdefault(top, {})
        for p in parts[:-1]:
            cur = cur.setdefault(p, {}) if isinstance(p, str) else cur[p]
        if delete:
            del cur[parts[-1]]
        else:
            cur[parts[-1]] = copy.deepcopy(value)   # never share a value between configs
    return out
