"""Attributes (OpsWorks' custom JSON): deep merge with precedence layer defaults < stack < layer < instance."""

from __future__ import annotations

import copy
from typing import Any


def deep_merge(*layers: dict[str, Any]) -> dict[str, Any]:
    """Merge mappings left to right; later wins; nested mappings merge, anything else (lists too) is replaced."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key] = deep_merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
    return out


def lookup(attrs: dict[str, Any], dotted: str) -> Any:
    cur: Any = attrs
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur
