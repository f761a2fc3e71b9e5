"""Configure fan-out: adding and removing one instance of each layer of production, and changing the apps — how many
instances re-run configure under stackkit (watched state, and the parts of the apps each layer reads) versus OpsWorks
(configure on every online instance; an app change: deploy everywhere it is, configure on every instance).

Run: .venv/bin/python -m benchmarks.fanout
"""

from __future__ import annotations

import copy

from stackkit.lifecycle.rules import commands, steps

from benchmarks.common import production, with_config
from stackkit.errors import StackkitError
from stackkit.plan.evaluate import evaluate

NEW = {
    "frontend": {"layers": ["frontend"], "az": 0},
    "plone": {"layers": ["plone"], "type": "t3.large", "az": 1},
    "zeoserver + maintenance": {"layers": ["zeoserver", "maintenance"], "type": "m6i.large", "az": 1},
}
REMOVE = {"frontend": "web2", "plone": "app5", "zeoserver + maintenance": "db1"}


def reruns(old, new) -> tuple[list[str], list[str]]:
    todo = steps(old, new)
    ran = sorted({s.instance for s in commands(todo) if s.event == "configure" and s.phase in ("create", "update")})
    return ran, sorted(s.name for s in todo if s.blocked)


def main() -> None:
    sf = production()
    base = evaluate(sf)
    members = len(sf.config["stackkit:instances"])
    rows = []
    for layer, spec in NEW.items():
        config = copy.deepcopy(sf.config)
        config["stackkit:instances"]["new1"] = spec
        ran, _ = reruns(base, evaluate(with_config(sf, config)))
        survivors = [i for i in ran if i != "new1"]
        rows.append((f"add 1 {layer}", len(survivors), "+ new" if "new1" in ran else "", members + 1, ", ".join(survivors)))
        config = copy.deepcopy(sf.config)
        del config["stackkit:instances"][REMOVE[layer]]
        try:
            ran, blocked = reruns(base, evaluate(with_config(sf, config)))
        except StackkitError as exc:
            rows.append((f"remove {REMOVE[layer]} ({layer})", 0, f"refused: {str(exc).splitlines()[0].split(': ', 1)[1]}",
                         members - 1, ""))
            continue
        note = f"protected, to retire first: {', '.join(blocked)}" if blocked else ""
        rows.append((f"remove {REMOVE[layer]} ({layer})", len(ran), note, members - 1, ", ".join(ran)))
    from stackkit.lifecycle.scenarios import APP_SCENARIOS
    for name, change, _ in APP_SCENARIOS:
        ran, _ = reruns(base, evaluate(sf.with_change(change)))
        rows.append((name, len(ran), "", members, ", ".join(ran)))
    print(f"configure re-runs in production ({members} instances)\n")
    print("| change | stackkit: survivors re-running configure | | OpsWorks: instances running configure | which |")
    print("|---|---|---|---|---|")
    for change, n, extra, opsworks, which in rows:
        print(f"| {change} | {n} | {extra} | {opsworks} | {which} |")


if __name__ == "__main__":
    main()
