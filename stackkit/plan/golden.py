"""Golden files of the rendered layer scripts: tests/golden/<stack>/<layer>/<event>.sh for the shipped stacks, each the
layer's script for that event and the files it stages, as rendered for the first instance carrying the layer.

Regenerate after an intended change: `make golden` (python -m stackkit.plan.golden); tests/test_golden.py fails
on any difference and shows it."""

from __future__ import annotations

import shutil
from pathlib import Path

from stackkit.lifecycle import bundle, script
from stackkit.paths import layers_dir
from stackkit.plan.evaluate import ROOT, Plan, evaluate

GOLDEN = ROOT / "tests/golden"
STACKS = {"production": ROOT / "Pulumi.production.yaml", "staging": ROOT / "Pulumi.staging.yaml",
          "relstorage": ROOT / "examples/Pulumi.relstorage.yaml"}


def rendered(plan: Plan) -> dict[str, str]:
    """'layer/event.sh' -> golden text, from the plan's commands' jobs (first instance, by name, per layer)."""
    out: dict[str, str] = {}
    for r in sorted(plan.of_type("command:remote:Command"), key=lambda r: r.name):
        if r.name.endswith("-users"):
            continue
        p = bundle.payload(r.secret_inputs["stdin"])
        job = p["job"]
        specs = {la: bundle.spec_of(p, la) for la in script.layers_of(job)}
        for event, _ in job["events"]:
            staged = script.staged(job, specs, event, layers_dir())
            for layer, _path, body in script.layer_scripts(job, specs, event, layers_dir()):
                key = f"{layer}/{event}.sh"
                if key in out:
                    continue
                parts = [f"# layers/{layer}/{event}.sh.j2 rendered for {r.name} (stack {plan.stack})\n{body}\n"]
                for la, src, dest, _, content in staged:
                    if la == layer:
                        parts.append(f"# --- staged {dest} (from {src})\n{content.rstrip(chr(10))}\n")
                out[key] = "\n".join(parts)
    return out


def write() -> list[Path]:
    shutil.rmtree(GOLDEN, ignore_errors=True)
    written = []
    for stack, path in STACKS.items():
        for key, text in rendered(evaluate(path)).items():
            target = GOLDEN / stack / key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            written.append(target)
    return written


if __name__ == "__main__":
    files = write()
    print(f"wrote {len(files)} golden files under {GOLDEN.relative_to(ROOT)}")
