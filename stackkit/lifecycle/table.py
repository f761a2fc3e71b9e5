"""The event table of docs/lifecycle.md: for each config change of the production stack, which scripts run where,
computed by the engine model from real plans (stackkit/lifecycle/scenarios.py holds the changes)."""

from __future__ import annotations

from stackkit.config.stackfile import StackFile
from stackkit.lifecycle.rules import commands, steps
from stackkit.plan.evaluate import Plan, evaluate


def table(base_file: StackFile, scenarios: list[tuple[str, dict, set]]) -> str:
    base: Plan = evaluate(base_file)
    rows = ["| change | scripts that run, in order (instance: event) | skipped |", "|---|---|---|"]
    for name, change, _ in scenarios:
        new = evaluate(base_file.with_change(change))
        todo = steps(base, new)
        ran = [f"{s.instance}: {s.event}{' (delete)' if s.phase == 'delete' else ''}" for s in commands(todo)]
        skipped = sorted({f"{s.instance}: {s.event}" for s in todo if s.skipped and s.with_instance})
        rows.append(f"| {name} | {', '.join(ran) or 'nothing'} | {', '.join(skipped) or '-'} |")
    return "\n".join(rows) + "\n"


BEGIN, END = "<!-- lifecycle:table:begin -->", "<!-- lifecycle:table:end -->"


def current() -> str:
    """docs/lifecycle.md with its event table regenerated."""

    from stackkit.config.stackfile import read_stack_file
    from stackkit.lifecycle.scenarios import SCENARIOS
    from stackkit.paths import ROOT as root

    doc = (root / "docs/lifecycle.md").read_text()
    before, rest = doc.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    rows = table(read_stack_file(root / "Pulumi.production.yaml"), SCENARIOS)
    return f"{before}{BEGIN}\n{rows}{END}{after}"


if __name__ == "__main__":
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent.parent / "docs/lifecycle.md"
    path.write_text(current())
    print(f"wrote {path}")
