"""Growth: total bytes of all command inputs and program evaluation time at 10, 40, 160 and 400 instances, and the
evaluation time relative to a bare Pulumi program registering the same resources (same types, names and inputs,
flat, no stackkit logic) under the same mock runtime.

Run: .venv/bin/python -m benchmarks.growth [--quick]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from typing import Any

from benchmarks.common import command_input_bytes, sized
from stackkit.plan.evaluate import Plan, evaluate
from stackkit.plan.mocks import RecordingMonitor, StackkitMocks

SIZES = (10, 40, 160, 400)


def bare(plan: Plan) -> float:
    """Seconds to register the same resources with plain pulumi.CustomResource / ComponentResource calls."""
    import pulumi

    from stackkit.plan.runtime import run_with_mocks

    mocks = StackkitMocks("eu-west-1")
    resources = [(r.type, r.name, r.custom, r.secret_inputs) for r in plan.resources]

    def program() -> None:
        for typ, name, custom, inputs in resources:
            props: dict[str, Any] = dict(inputs)
            if custom:
                pulumi.CustomResource(typ, name, props)
            else:
                pulumi.ComponentResource(typ, name, None)

    gc.collect()   # not the previous run's garbage: each run pays for its own collections only
    start = time.perf_counter()
    run_with_mocks(program, mocks, RecordingMonitor(mocks), project="stackkit", stack="bare")
    return time.perf_counter() - start


def timed(n: int, repeat: int) -> tuple[Plan, float]:
    sf = sized(n)
    times = []
    plan = None
    for _ in range(repeat):
        gc.collect()   # as in bare()
        start = time.perf_counter()
        plan = evaluate(sf)
        times.append(time.perf_counter() - start)
    assert plan is not None
    return plan, statistics.median(times)


def main() -> None:
    quick = "--quick" in sys.argv
    repeat = 1 if quick else 3
    rows = []
    for n in SIZES:
        plan, seconds = timed(n, repeat)
        bare_s = statistics.median(bare(plan) for _ in range(repeat))
        rows.append((n, len(plan.resources), command_input_bytes(plan), seconds, bare_s))
    print("| instances | resources | command input bytes | bytes / instance | evaluation (s) | bare program (s) | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n, res, b, s, bs in rows:
        print(f"| {n} | {res} | {b:,} | {b // n:,} | {s:.2f} | {bs:.2f} | {s / bs:.2f} |")
    by = {n: (b, s) for n, _, b, s, _ in rows}
    print(f"\n400/40: bytes x{by[400][0] / by[40][0]:.2f} (linear: x10; limit x11), time x{by[400][1] / by[40][1]:.2f}")


if __name__ == "__main__":
    main()
