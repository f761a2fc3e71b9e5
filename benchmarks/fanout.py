"""Configure fan-out, from Pulumi's real engine: adding and removing one instance of each layer of production, and
changing the apps — how many instances re-run configure (the engine's preview against a records-only production,
stackkit.plan.against) versus OpsWorks (configure on every online instance; an app change: deploy everywhere it is,
configure on every instance). Also counts the scripts of survivors that would run anything but configure: a
membership change must run none (no setup, no deploy, no connection-only re-run).

Run: .venv/bin/python -m benchmarks.fanout     (root or user namespaces; about a minute per change on 2 cores)
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import production
from stackkit.config.patch import Change
from stackkit.lifecycle.scenarios import APP_SCENARIOS
from stackkit.paths import ROOT
from stackkit.plan.against import previews
from stackkit.plan.whatruns import Script

NEW = {
    "frontend": {"layers": ["frontend"], "az": 0},
    "frontend whose name sorts first": {"layers": ["frontend"], "az": 1},
    "plone": {"layers": ["plone"], "type": "t3.large", "az": 1},
    "zeoserver + maintenance": {"layers": ["zeoserver", "maintenance"], "type": "m6i.large", "az": 1},
}
NAMES = {"frontend whose name sorts first": "web0"}
REMOVE = {"frontend": "web2", "plone": "app5", "zeoserver + maintenance": "db1"}


def _deployment(change: Change) -> dict[str, Any]:
    return {"stack_file": str(ROOT / "Pulumi.production.yaml"), "program": str(ROOT), "config": None,
            "change": change}


def main() -> None:
    sf = production()
    members = len(sf.config["stackkit:instances"])
    changes: list[tuple[str, Change, int]] = []
    for layer, spec in NEW.items():
        changes.append((f"add 1 {layer}", {f"instances.{NAMES.get(layer, 'new1')}": spec}, members + 1))
    for layer, name in REMOVE.items():
        changes.append((f"remove {name} ({layer})", {f"-instances.{name}": None}, members - 1))
    for name, change, _ in APP_SCENARIOS:
        changes.append((name, change, members))
    results = previews(_deployment({}), [_deployment(c) for _, c, _ in changes], sf.stack)
    print(f"configure re-runs in production ({members} instances), from the engine's preview\n")
    print("| change | stackkit: survivors re-running configure | survivors' other scripts | "
          "OpsWorks: instances running configure | which |")
    print("|---|---|---|---|---|")
    for (title, change, opsworks), result in zip(changes, results, strict=True):
        if result["refused"]:
            print(f"| {title} | 0 | refused: {result['refused'][0][:90]}… | {opsworks} | |")
            continue
        new = {k.split(".")[1] for k in change if k.startswith("instances.")}
        scripts = [Script(**s) for s in result["scripts"] if s["instance"] not in new]
        configure = sorted({s.instance for s in scripts if s.event == "configure" and s.phase != "delete"})
        other = sorted(f"{s.instance}:{s.event}" for s in scripts
                       if s.runs and s.event != "configure" and s.phase != "delete" and not title.startswith(
                           ("change an app", "add an app", "change the Plone")))
        print(f"| {title} | {len(configure)} | {', '.join(other) or 0} | {opsworks} | {', '.join(configure)} |")


if __name__ == "__main__":
    main()
