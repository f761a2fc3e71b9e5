"""The real engine's figures on the local cloud (needs pulumi-command's provider: docs/engine.md).

1. `pulumi preview` of staging and production from nothing (records only: no machines), median of 3;
2. `pulumi up` with no change and `pulumi preview` of a converged stack (--converged WORKDIR: a local stack brought up
   by `stackkit local up` or `python -m stackkit.engine.observe`);
3. program time with the real engine against a bare program registering the same resources (same types, names and
   inputs, flat, no stackkit logic), both as `pulumi preview` from nothing, at 40 and 400 instances.

Run: .venv/bin/python -m benchmarks.engine [--converged /var/tmp/stackkit-observe]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ruamel.yaml import YAML
from stackkit.engine.localstack import LocalStack

from benchmarks.common import ROOT, sized
from stackkit.engine.toolchain import local_engine
from stackkit.plan.evaluate import evaluate

BARE = Path(__file__).resolve().parent / "bare_program"


def _timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stack_file_of(n: int, folder: Path) -> Path:
    """Production with n instances (benchmarks.common.sized), as a stack file the engine can use."""
    yaml = YAML()
    doc = yaml.load((ROOT / "Pulumi.production.yaml").read_text())
    doc["config"]["stackkit:instances"] = sized(n).config["stackkit:instances"]
    path = folder / f"Pulumi.bench{n}.yaml"
    with path.open("w") as f:
        yaml.dump(doc, f)
    return path


def preview_seconds(stack_file: Path, work: Path, repeat: int = 3) -> float:
    ls = LocalStack(stack_file, work, ssh_key=("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7+KkuhYVoSPYgAOJpDzXp+jx31ECEGI"
                                              "ZiOIRyl4wAX bench", "bench-key"))
    engine = ls.prepare()
    return _timed(lambda: ls.run(engine, "preview", "--json", timeout=3600), repeat)


def bare_seconds(n: int, work: Path, repeat: int = 3) -> float:
    """The same resources from a flat program: benchmarks/bare_program reads them from a JSON file."""
    plan = evaluate(sized(n))
    work.mkdir(parents=True, exist_ok=True)
    data = work / "resources.json"
    data.write_text(json.dumps([{"type": r.type, "name": r.name, "custom": r.custom, "inputs": r.secret_inputs}
                                for r in plan.resources]))
    project = work / "bare"
    project.mkdir(parents=True, exist_ok=True)
    (project / "Pulumi.yaml").write_text(f"name: stackkit\nmain: {BARE}\nruntime:\n  name: python\n  options:\n"
                                         f"    virtualenv: {ROOT / '.venv'}\n")
    engine = local_engine(work / "engine", "bench")
    engine.pulumi("stack", "init", "bare", "--secrets-provider", "passphrase", cwd=project, check=False)
    engine.pulumi("config", "set", "aws:region", "eu-west-1", "--stack", "bare", cwd=project)
    return _timed(lambda: engine.pulumi("preview", "--json", "--stack", "bare", cwd=project, timeout=3600,
                                        BARE_RESOURCES=str(data)), repeat)


def main() -> None:
    converged = Path(sys.argv[sys.argv.index("--converged") + 1]) if "--converged" in sys.argv else None
    with tempfile.TemporaryDirectory(prefix="stackkit-bench-engine-") as tmp:
        root = Path(tmp)
        print("| stack | `pulumi preview` from nothing (s) |")
        print("|---|---|")
        for stack in ("staging", "production"):
            print(f"| {stack} | {preview_seconds(ROOT / f'Pulumi.{stack}.yaml', root / stack):.1f} |")
        if converged:
            ls = LocalStack(ROOT / "Pulumi.production.yaml", converged)
            engine = local_engine(converged, (converged / "passphrase").read_text())
            up = _timed(lambda: ls.run(engine, "up", "--yes", "--skip-preview", timeout=1800), 3)
            pv = _timed(lambda: ls.run(engine, "preview", "--json", timeout=1800), 3)
            print(f"\nconverged production ({converged}): `pulumi up` with no change {up:.1f} s, "
                  f"`pulumi preview` {pv:.1f} s")
        print("\n| instances | resources | stackkit program, real engine preview (s) | bare program (s) | ratio |")
        print("|---|---|---|---|---|")
        rows = {}
        for n in (40, 400):
            work = root / f"n{n}"
            work.mkdir()
            s = preview_seconds(stack_file_of(n, work), work / "stack", repeat=1 if n == 400 else 3)
            b = bare_seconds(n, work / "bare", repeat=1 if n == 400 else 3)
            rows[n] = s
            print(f"| {n} | {len(evaluate(sized(n)).resources)} | {s:.1f} | {b:.1f} | {s / b:.2f} |")
        print(f"\n400/40: x{rows[400] / rows[40]:.2f}")


if __name__ == "__main__":
    main()
