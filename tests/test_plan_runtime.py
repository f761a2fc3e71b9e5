"""The offline plan drives the SDK's private runtime in one function, behind a version check."""

from __future__ import annotations

from typing import Any

import pytest

from stackkit.errors import PlanError
from stackkit.plan import runtime
from stackkit.plan.mocks import RecordingMonitor, StackkitMocks


def test_the_pinned_sdk_is_a_tested_one() -> None:
    runtime.check_sdk()


@pytest.mark.parametrize("version", [(3, 100), (3, 300), (4, 0)])
def test_another_sdk_gets_a_clear_error(monkeypatch: pytest.MonkeyPatch, version: tuple[int, int]) -> None:
    monkeypatch.setattr(runtime, "sdk_version", lambda: version)
    with pytest.raises(PlanError, match=rf"this is {version[0]}\.{version[1]}: install the pinned SDK"):
        runtime.check_sdk()


def test_no_other_module_uses_the_private_runtime() -> None:
    from pathlib import Path

    from stackkit.paths import CHECKOUT

    assert CHECKOUT is not None
    users = [p for d in ("stackkit", "benchmarks", "tests") for p in (CHECKOUT / d).rglob("*.py")
             if p != Path(runtime.__file__).resolve() and p != Path(__file__).resolve()
             and any(n in p.read_text() for n in ("_sync_await", "reset_options", "run_pulumi_func", "_get_stack_trace"))]
    assert users == []


class _TraceMonitor(RecordingMonitor):
    """A recording monitor that also keeps how many stack frames each registration carried."""

    def __init__(self) -> None:
        super().__init__(StackkitMocks("eu-west-1"))
        self.frames: dict[str, int] = {}

    def RegisterResource(self, request: Any) -> Any:
        self.frames[request.name] = len(request.stackTrace.frames)
        return super().RegisterResource(request)


def _nested(depth: int) -> None:
    import pulumi

    if depth:
        _nested(depth - 1)
        return
    pulumi.Stash("deep", input="x")


def test_a_plan_sends_no_stack_traces_and_the_sdk_gets_its_own_back() -> None:
    """The offline plan skips the SDK's per-resource stack trace (the mock monitor drops it); the SDK's function is
    back after the run, also after a run that failed."""
    from pulumi.runtime import resource

    original = resource._get_stack_trace
    t = _TraceMonitor()
    runtime.run_with_mocks(lambda: _nested(20), t.mocks, t, project="p", stack="s")
    assert t.frames["deep"] == 0
    assert resource._get_stack_trace is original

    def failing() -> None:
        raise ValueError("the program failed")
    with pytest.raises(ValueError, match="the program failed"):
        runtime.run_with_mocks(failing, t.mocks, t, project="p", stack="s")
    assert resource._get_stack_trace is original


def test_the_sdk_would_have_sent_one() -> None:
    """What the test above relies on: outside the plan, the same registration carries the frames of its caller."""
    import contextlib

    t = _TraceMonitor()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runtime, "no_stack_traces", contextlib.nullcontext)
        runtime.run_with_mocks(lambda: _nested(20), t.mocks, t, project="p", stack="s")
    assert t.frames["deep"] > 20
