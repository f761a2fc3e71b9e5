"""Growth: total bytes of all command inputs and program evaluation time at 10, 40, 160 and 400 instances, and the
evaluation time relative to a bare Pulumi program registering the same resources (same types, names and inputs,
flat, no stackkit logic) under the same mock runtime. A second bare program registers them with the same parents and
dependencies too: what the resource graph alone costs the SDK (the rest of the gap is the typed resource classes'
outputs, the program's Output joins and stackkit's own work).

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


def bare(plan: Plan, graph: bool = False) -> float:
    """Seconds to register the same resources with plain pulumi.CustomResource / ComponentResource calls; with
    `graph`, each with its parent and dependsOn as the plan has them."""
    import pulumi

    from stackkit.plan.runtime import run_with_mocks

    mocks = StackkitMocks("eu-west-1")
    resources = list(plan.resources)

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in resources:
            props: dict[str, Any] = dict(r.secret_inputs)
            opts = None
            if graph:     # registration order: a parent and (nearly always) a dependency come first
                opts = pulumi.ResourceOptions(parent=made.get(r.parent),
                                              depends_on=[made[u] for u in r.options["dependsOn"] if u in made])
            if r.custom:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, props, opts=opts)
            else:
                made[r.urn] = pulumi.ComponentResource(r.type, r.name, None, opts=opts)

    gc.collect()   # not the previous run's garbage: each run pays for its own collections only
    start = time.perf_counter()
    run_with_mocks(program, mocks, RecordingMonitor(mocks), project="stackkit", stack="bare")
    return time.perf_counter() - start


def timed(n: int, repeat: int) -> tuple[Plan, float]:
    sf = sized(n)
    times = []
    plan = None
    for _ in range(repeat):
        plan = None    # the previous run's plan is not alive during this one
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
        graph_s = statistics.median(bare(plan, graph=True) for _ in range(repeat))
        rows.append((n, len(plan.resources), command_input_bytes(plan), seconds, bare_s, graph_s))
        del plan
    print("| instances | resources | command input bytes | bytes / instance | evaluation (s) | bare program (s) | ratio "
          "| bare + parents and dependencies (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, res, b, s, bs, gs in rows:
        print(f"| {n} | {res} | {b:,} | {b // n:,} | {s:.2f} | {bs:.2f} | {s / bs:.2f} | {gs:.2f} | {s / gs:.2f} |")
    by = {n: (b, s) for n, _, b, s, _, _ in rows}
    print(f"\n400/40: bytes x{by[400][0] / by[40][0]:.2f} (linear: x10; limit x11), time x{by[400][1] / by[40][1]:.2f}")


if __name__ == "__main__":
    main()
