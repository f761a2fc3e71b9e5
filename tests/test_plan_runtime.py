"""The offline plan drives the SDK's private runtime in one function, behind a version check."""

from __future__ import annotations

import pytest

from stackkit.errors import PlanError
from stackkit.plan import runtime


def test_the_pinned_sdk_is_a_tested_one() -> None:
    runtime.check_sdk()


@pytest.mark.parametrize("version", [(3, 100), (3, 300), (4, 0)])
def test_another_sdk_gets_a_clear_error(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]) -> None:
    monkeypatch.setattr(runtime, "sdk_version", lambda: version)
    with pytest.raises(PlanError, match=rf"this is {version[0]}\.{version[1]}: install the pinned SDK"):
        runtime.check_sdk()


def test_no_other_module_uses_the_private_runtime() -> None:
    from pathlib import Path

    root = Path(runtime.__file__).resolve().parents[2]
    users = [p for d in ("stackkit", "benchmarks", "tests") for p in (root / d).rglob("*.py")
             if p != Path(runtime.__file__).resolve() and p != Path(__file__).resolve()
             and any(n in p.read_text() for n in ("_sync_await", "reset_options", "run_pulumi_func"))]
    assert users == []
