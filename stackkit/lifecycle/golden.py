"""Golden files of the rendered layer scripts: tests/golden/<stack>/<layer>/<event>.sh for the shipped stacks, each the
layer's script for that event and the files it stages, as rendered for the first instance carrying the layer.

Regenerate after an intended change: `make golden` (python -m stackkit.lifecycle.golden); tests/test_golden.py fails
on any difference and shows it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from stackkit.plan.evaluate import ROOT, Plan, evaluate

GOLDEN = ROOT / "tests/golden"
STACKS = {"production": ROOT / "Pulumi.production.yaml", "staging": ROOT / "Pulumi.staging.yaml",
          "relstorage": ROOT / "examples/Pulumi.relstorage.yaml"}
_FN = re.compile(r"^# --- layers/(\w+)/(\w+)\.sh\.j2\nsk_layer_\w+\(\) \{\n(.*?)\n\}\n", re.S | re.M)
_STAGED = re.compile(r"sk_put /etc/stackkit/staged(\S+) (\d+) <<'(SK_EOF_\w+)'\n(.*?)\n\3\n", re.S)


def rendered(plan: Plan) -> dict[str, str]:
    """'layer/event.sh' -> golden text, from the plan's real bundles (first instance, by name, per layer)."""
    from stackkit.config.layerspec import load_layer_specs
    from stackkit.config.load import LAYERS_DIR

    specs, _ = load_layer_specs(LAYERS_DIR)
    out: dict[str, str] = {}
    for r in sorted(plan.of_type("command:remote:Command"), key=lambda r: r.name):
        text = r.secret_inputs["stdin"]
        staged = {m.group(1): m.group(4) for m in _STAGED.finditer(text)}
        for m in _FN.finditer(text):
            layer, event, body = m.group(1), m.group(2), m.group(3)
            key = f"{layer}/{event}.sh"
            if key in out:
                continue
            parts = [f"# layers/{layer}/{event}.sh.j2 rendered for {r.name} (stack {plan.stack})\n{body}\n"]
            for t in specs[layer].templates:
                if event in t.events and t.dest in staged:
                    parts.append(f"# --- staged {t.dest} (from {t.src})\n{staged[t.dest]}\n")
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
