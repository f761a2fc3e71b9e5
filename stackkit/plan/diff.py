"""The lifecycle diff: which lifecycle events an `up` would run, per instance and in execution order, comparing the
recorded plan of an older stack file or git revision with the current one (`plan <stack> --against FILE|REV`).

For a git revision the OLD program, layers and config are evaluated (from `git archive`) in a subprocess, so a change
of a layer script shows up too. Everything comes from stackkit.lifecycle.rules: the same model `stackkit local` runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from stackkit.errors import PlanError
from stackkit.lifecycle.rules import steps
from stackkit.plan.evaluate import ROOT, Plan, Resource, evaluate

# runs in another tree (possibly an older revision of stackkit): only what every revision has (to_json and the
# fields), producing the keys of Resource.to_record
_DUMP = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
os.chdir(sys.argv[1])
from stackkit.plan.evaluate import evaluate
plan = evaluate(__import__("pathlib").Path(sys.argv[2]))
fd = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as fh:
    json.dump({"stack": plan.stack, "outputs": getattr(plan, "outputs", {}),
               "resources": [dict(r.to_json(), id=r.id, secret_inputs=r.secret_inputs,
               property_dependencies=r.property_dependencies) for r in plan.resources]}, fh)
"""


def against(ref: str, stack_path: Path) -> Plan:
    """The plan of `ref`: a stack file (evaluated with the current program) or a git revision (old program too)."""
    from stackkit.config.stackfile import read_stack_file

    if Path(ref).exists():
        return evaluate(Path(ref), stack_name=read_stack_file(stack_path).stack)
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                         capture_output=True, text=True)
    if rev.returncode != 0:
        raise PlanError(f"--against {ref}: neither a stack file nor a git revision of {ROOT}")
    rel = stack_path.resolve().relative_to(ROOT)
    with tempfile.TemporaryDirectory(prefix="stackkit-against-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev.stdout.strip()],
                                 capture_output=True, check=True)
        tar_path = Path(tmp) / "tree.tar"
        tar_path.write_bytes(archive.stdout)
        tree = Path(tmp) / "tree"
        with tarfile.open(tar_path) as tf:
            tf.extractall(tree, filter="data")
        if not (tree / rel).exists():
            raise PlanError(f"--against {ref}: {rel} does not exist at that revision")
        return evaluate_tree(tree, tree / rel, what=f"--against {ref}")


def evaluate_tree(tree: Path, stack_path: Path, what: str = "") -> Plan:
    """The plan of a stack file evaluated with the program and layers of another tree (an old revision, an edited
    copy), in a subprocess so that tree's stackkit is the one imported."""
    with tempfile.TemporaryDirectory(prefix="stackkit-tree-") as tmp:
        out = Path(tmp) / "plan.json"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        env.pop("STACKKIT_LAYERS_DIR", None)
        result = subprocess.run([sys.executable, "-c", _DUMP, str(tree), str(stack_path), str(out)],
                                capture_output=True, text=True, env=env, timeout=600)
        if result.returncode != 0:
            raise PlanError(f"{what or tree}: evaluating the program failed:\n{result.stderr[-2000:]}")
        data = json.loads(out.read_text())
    return Plan(stack=data["stack"], project="stackkit", outputs=data.get("outputs") or {},
                resources=[Resource.from_record(d) for d in data["resources"]])


def diff(old: Plan | None, new: Plan) -> dict[str, Any]:
    """The diff as data: blocked steps, lifecycle scripts in execution order, and a count of the other changes."""
    todo = steps(old, new)
    scripts = []
    for i, s in enumerate(todo):
        if s.type == "command:remote:Command" and s.op != "same":
            scripts.append({"order": i + 1, "instance": s.instance, "event": s.event, "op": s.op,
                            "phase": s.phase, "runs": s.runs, "command": s.name, "reason": s.reason,
                            "with_instance": s.with_instance})
    others = Counter(f"{s.op}" for s in todo if s.type != "command:remote:Command" and s.op != "same"
                     and s.phase != "delete" or (s.type != "command:remote:Command" and s.op == "delete"))
    return {"blocked": [{"resource": s.name, "type": s.type, "reason": s.reason} for s in todo if s.blocked],
            "scripts": scripts, "other_resources": dict(sorted(others.items()))}


def render_refusal(stack: str, problems: list[str], as_json: bool = False) -> str:
    """An edit the program refuses before anything runs (stackkit.cluster.data): no step list, the problems."""
    if as_json:
        return json.dumps({"refused": problems, "blocked": [], "scripts": [], "other_resources": {}}, indent=1)
    return "\n".join([f"lifecycle diff of stack {stack}: refused before anything runs, nothing would change",
                      *(f"REFUSED {p}" for p in problems)])


def render_diff(old: Plan | None, new: Plan, as_json: bool = False) -> str:
    data = diff(old, new)
    if as_json:
        return json.dumps(data, indent=1)
    lines = [f"lifecycle diff of stack {new.stack}: {len([s for s in data['scripts'] if s['runs']])} scripts would run"]
    for b in data["blocked"]:
        lines.append(f"BLOCKED {b['resource']} ({b['type']}): {b['reason']}")
    by_instance: dict[str, list[dict[str, Any]]] = {}
    for s in data["scripts"]:
        by_instance.setdefault(s["instance"] or "-", []).append(s)
    for inst in sorted(by_instance, key=lambda i: by_instance[i][0]["order"]):
        lines.append(f"{inst}:")
        for s in by_instance[inst]:
            what = {"create": "runs", "update": "runs again", "delete": "runs (delete)"}.get(s["runs"] or "", "skipped")
            if s["phase"] == "delete" and not s["runs"]:
                what = "skipped (instance deleted too)" if s["with_instance"] else "no script"
            lines.append(f"  {s['order']:>4}. {s['event']:<10} {s['op']:<8} {what:<32} {s['reason']}")
    if data["other_resources"]:
        lines.append("other resources: " + ", ".join(f"{n} {op}" for op, n in data["other_resources"].items()))
    if len(lines) == 1:
        lines.append("nothing would change")
    return "\n".join(lines)
