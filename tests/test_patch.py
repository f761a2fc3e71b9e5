"""The one change language (stackkit.config.patch): set, set a list item, delete, another namespace, no sharing."""

from __future__ import annotations

from typing import Any

import pytest

from stackkit.config.patch import apply, split

BASE: dict[str, Any] = {"aws:region": "eu-west-1",
                        "stackkit:instances": {"web1": {"layers": ["frontend"]}, "app1": {"layers": ["plone"]}}}
CASES = [
    ({"instances.app2": {"layers": ["plone"]}}, ("stackkit:instances", "app2"), {"layers": ["plone"]}),
    ({"stackkit:instances.web1.layers[0]": "plone"}, ("stackkit:instances", "web1"), {"layers": ["plone"]}),
    ({"-instances.app1": None}, ("stackkit:instances", "app1"), None),
    ({"aws:region": "eu-central-1"}, ("aws:region",), "eu-central-1"),
    ({"stack.name": "x"}, ("stackkit:stack", "name"), "x"),
]


def _get(config: dict[str, Any], keys: tuple[str, ...]) -> Any:
    cur: Any = config
    for k in keys:
        if k not in cur:
            return None
        cur = cur[k]
    return cur


@pytest.mark.parametrize(("change", "where", "expected"), CASES, ids=[next(iter(c[0])) for c in CASES])
def test_apply(change: dict, where: tuple[str, ...], expected: Any) -> None:
    before = repr(BASE)
    out = apply(BASE, change)
    assert _get(out, where) == expected
    assert repr(BASE) == before, "the config given is never changed"


def test_values_are_never_shared() -> None:
    value = {"layers": ["plone"]}
    a, b = apply(BASE, {"instances.app2": value}), apply(BASE, {"instances.app2": value})
    a["stackkit:instances"]["app2"]["layers"].append("x")
    assert b["stackkit:instances"]["app2"]["layers"] == ["plone"] and value["layers"] == ["plone"]


def test_split() -> None:
    assert split("stackkit:instances.web1.layers[0]") == ("stackkit:instances", ["web1", "layers", 0])
    assert split("instances.web1") == ("stackkit:instances", ["web1"])
    assert split("aws:region") == ("aws:region", [])
