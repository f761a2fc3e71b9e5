"""The real engine's figures on the local cloud (Pulumi's CLI and its plugins from scripts/setup).

1. `pulumi preview` of staging and production from nothing (the local cloud records only), median of 3;
2. program time: the stackkit program against bare programs registering the same resources (same types, names and
   inputs, no stackkit logic; benchmarks/bare_program): by the SDK classes with the same parents and dependencies, as
   a user would write it by hand (the baseline of the aim), and by plain flat calls; all as `pulumi preview` from
   nothing under the same engine and providers, at 40 and 400 instances;
3. with --machines (root): `stackkit local up` of staging and of production on Debian 12 machines from nothing (the
   app examples/plone, as `make local-up`), then again with no change (`pulumi up` that finds nothing to do), then
   `local down --purge`.

Run: .venv/bin/python -m benchmarks.engine [--machines] [--no-preview (only the machines)]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from benchmarks.common import sized
from stackkit.engine import workspace
from stackkit.local.files import private_dir, write_private
from stackkit.local.stack import LocalStack, engine_env, plugin_home
from stackkit.paths import ROOT
from stackkit.plan.evaluate import evaluate

BARE = Path(__file__).resolve().parent / "bare_program"
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7+KkuhYVoSPYgAOJpDzXp+jx31ECEGIZiOIRyl4wAX bench", "bench-key")


def _timed(fn: Any, repeat: int = 3) -> float:
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
    for layer in doc["config"]["stackkit:layers"].values():
        layer.pop("load_based", None)
    path = folder / f"Pulumi.bench{n}.yaml"
    with path.open("w") as f:
        yaml.dump(doc, f)
    return path


def preview_seconds(stack_file: Path, base: Path, repeat: int = 3) -> float:
    ls = LocalStack(stack_file, base, ssh_key=KEY)
    ls.prepare()
    return _timed(ls.preview, repeat)


def bare_seconds(n: int, base: Path, mode: str, repeat: int = 3) -> float:
    """The same resources from a bare program (benchmarks/bare_program reads them from a JSON file): `plain` flat
    calls, or `sdk` by the SDK classes with the same parents and dependencies."""
    plan = evaluate(sized(n))
    work = private_dir(base / f"bare-{mode}")
    data = work / "resources.json"
    write_private(data, json.dumps([{"type": r.type, "name": r.name, "custom": r.custom, "inputs": r.secret_inputs,
                                     "key": r.urn, "parent": r.parent, "dependsOn": r.options["dependsOn"]}
                                    for r in plan.resources]))
    project = private_dir(work / "project")
    (project / "Pulumi.yaml").write_text(f"name: stackkit\nmain: {BARE}\nruntime:\n  name: python\n  options:\n"
                                         f"    virtualenv: {sys.prefix}\n")
    (project / "Pulumi.bare.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    env = {**engine_env(work), "BARE_RESOURCES": str(data), "BARE_MODE": mode, "BARE_ROOT": str(BARE.parent.parent)}
    stack = workspace.select(project, "bare", env, pulumi_home=plugin_home(base))
    return _timed(lambda: stack.preview(color="never"), repeat)


def machines(stack: str, base: Path) -> dict[str, float]:
    """`stackkit local up STACK` from nothing and again with no change, then `local down --purge` (seconds)."""
    env = {**os.environ, "STACKKIT_LOCAL_DIR": str(base / "local"), "STACKKIT_LOCAL_BRIDGE": "skbr7",
           "STACKKIT_LOCAL_SUBNET": "10.218.0.0/24"}

    def run(*args: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "stackkit", "local", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    try:
        # the app as `make local-up` deploys it (the stack files' own source is a repository on the internet)
        first = run("up", stack, "--app", f"site={ROOT / 'examples' / 'plone'}")
        again = run("up", stack)
    finally:
        down = run("down", stack, "--purge")
    return {"converge": first, "no change": again, "down": down}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="stackkit-bench-engine-") as tmp:
        root = Path(tmp)
        if "--no-preview" in sys.argv:
            machines_table(root)
            return
        print("| stack | `pulumi preview` from nothing (s) |")
        print("|---|---|")
        for stack in ("staging", "production"):
            print(f"| {stack} | {preview_seconds(ROOT / f'Pulumi.{stack}.yaml', root / stack):.1f} |")
        print("\n| instances | resources | stackkit program (s) | bare, SDK classes with parents and dependencies (s) "
              "| ratio | bare, plain flat calls (s) | ratio |")
        print("|---|---|---|---|---|---|---|")
        for n in (40, 400):
            work = private_dir(root / f"n{n}")
            repeat = 1 if n == 400 else 3
            s = preview_seconds(stack_file_of(n, work), work / "stackkit", repeat)
            t = bare_seconds(n, work / "bare", "sdk", repeat)
            b = bare_seconds(n, work / "bare", "plain", repeat)
            print(f"| {n} | {len(evaluate(sized(n)).resources)} | {s:.1f} | {t:.1f} | {s / t:.2f} | {b:.1f} "
                  f"| {s / b:.2f} |", flush=True)
        if "--machines" in sys.argv:
            machines_table(root)


def machines_table(root: Path) -> None:
    print("\n| stack on machines | `local up` from nothing (s) | `local up` with no change (s) | down (s) |")
    print("|---|---|---|---|")
    for stack in ("staging", "production"):
        t = machines(stack, root / f"m-{stack}")
        print(f"| {stack} | {t['converge']:.0f} | {t['no change']:.0f} | {t['down']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
