"""The one place that drives Pulumi's Python SDK by its private parts, for the offline plan (no CLI, no engine).

Pulumi's mock runtime is public (`pulumi.runtime.set_mocks`), but running a whole program under it and reading back
every registration needs a few private functions (`settings.reset_options`, `SETTINGS`, `run_pulumi_func`,
`_sync_await`). They are called only here, behind a check of the SDK version they were read from: another SDK version
gets a clear error instead of a wrong plan. Where the Pulumi CLI is available, `pulumi preview` is the real thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
from collections.abc import Callable, Iterator
from importlib.metadata import version
from typing import Any

from stackkit.errors import PlanError

# the SDK versions whose private runtime this module was read against (requirements.txt pins one of them)
TESTED = ((3, 260), (3, 272))


@functools.cache
def sdk_version() -> tuple[int, int]:
    """The installed SDK's version (read once: importlib.metadata scans every installed distribution)."""
    major, minor = version("pulumi").split(".")[:2]
    return int(major), int(minor)


def check_sdk() -> None:
    v = sdk_version()
    if not TESTED[0] <= v <= TESTED[1]:
        raise PlanError(f"the offline plan drives Pulumi's Python SDK {TESTED[0][0]}.{TESTED[0][1]} to "
                        f"{TESTED[1][0]}.{TESTED[1][1]} by private functions; this is {v[0]}.{v[1]}: install the "
                        "pinned SDK (make setup), or use `pulumi preview` with the Pulumi CLI")


def run_with_mocks(program: Callable[[], None], mocks: Any, monitor: Any, *, project: str, stack: str,
                   config: dict[str, Any] | None = None, secret_keys: list[str] | None = None) -> None:
    """Run `program` to completion under Pulumi's mock runtime, on a fresh event loop and fresh SDK state.
    Exceptions of the program (pulumi.RunError included) propagate. The stack's exports reach the monitor as the
    root resource's RegisterResourceOutputs, as the engine receives them (the mock root never registers them)."""
    check_sdk()
    from pulumi.runtime import mocks as pm
    from pulumi.runtime import settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    # The SDK keeps every resource, output and RPC task of the run alive until the run ends, so the heap grows by
    # about 250 objects per resource and nearly all of it survives. Python's full collections (each time the old
    # generation grows by a quarter) would traverse all of it again and again while finding almost nothing: a third of
    # a 400-instance run (20-25 s -> 15 s), half of the bare SDK's (10 s -> 5 s). During the run only the young
    # generations are collected (the short-lived garbage of outputs and tasks). The SDK's state is left as it was (the
    # next run resets it). Every event loop the run made is closed at its end, the ones the mock monitor's executor
    # threads made too (left to the garbage collector, their finalizers warned: "Invalid file descriptor: -1").
    with young_gc_only(), no_stack_traces():
        settings.reset_options(project=project, stack=stack, preview=False)
        if config is not None:
            set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}, secret_keys or [])
        pm.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
        try:
            settings.SETTINGS.rpc_manager.clear()
            settings.SETTINGS.outputs.clear()

            def program_and_exports() -> None:
                program()
                from pulumi import ComponentResource

                root = settings.get_root_resource()
                if isinstance(root, ComponentResource):
                    root.register_outputs(dict(getattr(root, "outputs", {})))

            _sync_await(run_pulumi_func(program_and_exports))
        finally:
            # the monitor's executor threads end first; then every event loop the run made is closed
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
            asyncio.set_event_loop(None)
            for thread_loop in getattr(monitor, "thread_loops", ()):
                if thread_loop is not loop:
                    thread_loop.close()


@contextlib.contextmanager
def no_stack_traces() -> Iterator[None]:
    """Inside, the SDK sends no stack trace with a registration. It takes one per resource (traceback.extract_stack
    with every frame's source line, then a file URI per frame) for the engine's diagnostics; the mock monitor drops
    it. With stackkit's components a resource is made about 25 frames deep: at 160 instances that was a tenth of a
    plan (a bare program's resources, made at the top, cost the SDK almost nothing). Under the real engine the SDK
    sends them as always."""
    from pulumi.runtime import resource
    from pulumi.runtime.proto import source_pb2

    original = resource._get_stack_trace
    resource._get_stack_trace = lambda: source_pb2.StackTrace()   # what the SDK sends when it finds no user frame
    try:
        yield
    finally:
        resource._get_stack_trace = original


@contextlib.contextmanager
def young_gc_only() -> Iterator[None]:
    """Only the young generations are collected inside (see run_with_mocks: the heap of a run survives it)."""
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
