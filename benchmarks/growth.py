"""Growth: total bytes of all command inputs and program evaluation time at 10, 40, 160 and 400 instances, and the
evaluation time relative to bare Pulumi programs registering the same resources (same types, names and inputs, no
stackkit logic) under the same mock runtime:
- flat, by plain pulumi.CustomResource calls (what the resources alone cost the SDK);
- the same with the plan's parents and dependencies (what the resource graph adds);
- the same by the SDK classes (pulumi_aws.ec2.Instance, pulumi_command.remote.Command, ...), as a hand-written program
  registers them: a typed class declares every property of its type, and the SDK makes an Output for each (an EC2
  instance: 61 declared, 11 set). Checked first: this program's registrations equal the plan's.
The last ratio is what stackkit's own work costs over the same Pulumi program.

Run: .venv/bin/python -m benchmarks.growth [--quick]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from typing import Any

from benchmarks.common import command_input_bytes, sized
from benchmarks.sdk import typed_class
from stackkit.plan.evaluate import Plan, evaluate
from stackkit.plan.mocks import RecordingMonitor, StackkitMocks

SIZES = (10, 40, 160, 400)
BUDGET = 10.0    # more rounds per size while they fit in this many seconds (10 instances: 6-8 rounds)


def bare(plan: Plan, graph: bool = False, typed: bool = False, monitor: RecordingMonitor | None = None) -> float:
    """Seconds to register the same resources with plain pulumi.CustomResource / ComponentResource calls; with
    `graph`, each with its parent and dependsOn as the plan has them; with `typed` too, each custom resource by its
    SDK class (pulumi_aws.ec2.Instance, ...), as a hand-written program would."""
    import pulumi

    from stackkit.plan.runtime import run_with_mocks

    mocks = StackkitMocks("eu-west-1")
    resources = list(plan.resources)
    classes = {r.type: typed_class(r.type) for r in resources if typed and r.custom}

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in resources:
            props: dict[str, Any] = dict(r.secret_inputs)
            opts = None
            if graph:     # registration order: a parent and (nearly always) a dependency come first
                opts = pulumi.ResourceOptions(parent=made.get(r.parent),
                                              depends_on=[made[u] for u in r.options["dependsOn"] if u in made])
            if r.custom and classes.get(r.type):
                cls, names = classes[r.type]    # type: ignore[misc]
                made[r.urn] = cls(r.name, opts=opts, **{names.get(k, k): v for k, v in props.items()})
            elif r.custom:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, props, opts=opts)
            else:
                made[r.urn] = pulumi.ComponentResource(r.type, r.name, None, opts=opts)

    gc.collect()   # not the previous run's garbage: each run pays for its own collections only
    start = time.perf_counter()
    run_with_mocks(program, mocks, monitor or RecordingMonitor(mocks), project="stackkit", stack="bare")
    return time.perf_counter() - start


def check_typed(plan: Plan) -> None:
    """The typed bare program registers what the plan registered: the same inputs on the wire, the same parents and
    dependencies (else its time would not be the same program's)."""
    from stackkit.plan.evaluate import _unwrap

    monitor = RecordingMonitor(StackkitMocks("eu-west-1"))
    bare(plan, graph=True, typed=True, monitor=monitor)

    def shape(inputs: dict[str, Any], depends_on: list[str], parent: str) -> tuple[Any, ...]:
        # URNs differ (project and stack "bare"): dependencies and parent by resource name
        return inputs, sorted(u.split("::")[-1] for u in depends_on), parent.split("::")[-1]
    got = {r.name: shape(_unwrap(r.inputs), r.options["dependsOn"], r.parent) for r in monitor.registrations if r.custom}
    want = {r.name: shape(r.secret_inputs, r.options["dependsOn"], r.parent) for r in plan.resources if r.custom}
    diff = sorted(k for k in want if got.get(k) != want[k])
    if diff:
        raise SystemExit(f"the typed bare program differs from the plan at {len(diff)} resources, e.g. {diff[:3]}")


def measure(n: int, repeat: int, budget: float = 0.0) -> tuple[Plan, list[tuple[float, float, float, float]]]:
    """At least `repeat` rounds, and more while they fit in `budget` seconds (a small plan takes a fraction of a
    second, where one slow spell of the machine would be the whole figure). Each round times stackkit's evaluation
    and then the three bare programs back to back, so that a slow spell falls on all four alike; a ratio is taken per
    round. The plan the bare programs register comes from an untimed evaluation first (which also warms up the
    imports)."""
    sf = sized(n)
    plan = evaluate(sf)
    rounds: list[tuple[float, float, float, float]] = []
    t0 = time.perf_counter()
    while len(rounds) < repeat or (time.perf_counter() - t0) * (len(rounds) + 1) / len(rounds) <= budget:
        gc.collect()   # as in bare()
        start = time.perf_counter()
        evaluate(sf)   # its plan is garbage at once, as in a real run
        ours = time.perf_counter() - start
        rounds.append((ours, bare(plan), bare(plan, graph=True), bare(plan, graph=True, typed=True)))
    return plan, rounds


def main() -> None:
    quick = "--quick" in sys.argv
    repeat, budget = (1, 0.0) if quick else (3, BUDGET)
    rows = []
    for n in SIZES:
        plan, rounds = measure(n, repeat, budget)
        if n == SIZES[0]:
            check_typed(plan)
        med = [statistics.median(r[i] for r in rounds) for i in range(4)]
        ratios = [statistics.median(r[0] / r[i] for r in rounds) for i in (1, 2, 3)]
        rows.append((n, len(plan.resources), command_input_bytes(plan), med, ratios, len(rounds)))
        del plan
    print("| instances | resources | command input bytes | bytes / instance | rounds | evaluation (s) | bare program (s) "
          "| ratio | bare + parents and dependencies (s) | ratio | same, by the SDK classes (s) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n, res, b, (s, bs, gs, ts), (rb, rg, rt), k in rows:
        print(f"| {n} | {res} | {b:,} | {b // n:,} | {k} | {s:.2f} | {bs:.2f} | {rb:.2f} | {gs:.2f} | {rg:.2f} "
              f"| {ts:.2f} | {rt:.2f} |")
    by = {n: (b, m[0]) for n, _, b, m, _, _ in rows}
    print(f"\n400/40: bytes x{by[400][0] / by[40][0]:.2f} (linear: x10; limit x11), time x{by[400][1] / by[40][1]:.2f}")
    print("(times: medians of the rounds; ratios: medians of the rounds' own ratios)")


if __name__ == "__main__":
    main()
