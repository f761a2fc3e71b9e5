"""The lifecycle diff from Pulumi's real engine: which lifecycle scripts an `up` would run, per instance, in the
engine's order (`stackkit plan <stack> --against FILE|REV`, the documented tables of docs/lifecycle.md).

The old config is brought up on a records-only local stack (stackkit.local: the stand-in aws provider records, and
each instance is a host that answers SSH and runs nothing, stackkit.local.hosts), by the real engine and the real
pulumi-command provider, with the old program (a git revision's own tree, or this one for a stack file); then the new
config is previewed against that state and the engine's planned steps are read from its events
(stackkit.engine.events) and turned into scripts by stackkit.plan.whatruns. The whole run happens in a network
namespace of its own (stackkit.local.netns) and a temporary folder: nothing is left behind.

Needs Pulumi's CLI and its two plugins (scripts/setup), and a network namespace (root, or user namespaces).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stackkit.config.patch import Change
from stackkit.config.stackfile import read_stack_file
from stackkit.errors import PlanError
from stackkit.local import netns
from stackkit.local.aws.cloud import HOSTS, Settings
from stackkit.local.stack import LocalStack, UpFailed, ssh_keypair
from stackkit.paths import ROOT
from stackkit.plan.whatruns import COMMAND, NO_DELETE, Script, runs

MODULE = "stackkit.plan.against"
# engine bookkeeping that is no resource of the stack
# the events in the order an instance's life runs them (the table's order within a change)
EVENTS = ("setup", "users", "deploy", "configure", "prepare", "undeploy", "shutdown", "lock_users")
IGNORED = {"pulumi:pulumi:Stack", "pulumi:providers:aws", "pulumi:providers:command", "pulumi:providers:pulumi"}


def _stack_name(path: Path) -> str:
    return read_stack_file(path).stack


def previews(base: dict[str, Any], changes: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Bring `base` up records-only, then preview each of `changes` against it: per change, {scripts, other, refused}.
    A deployment is {stack_file, program, config (None: the stack file's), change}."""
    result = netns.run(MODULE, {"base": base, "previews": changes, "name": name})
    return list(result["previews"])


def _tree(ref: str, stack_path: Path, tmp: Path) -> tuple[Path, Path]:
    """(program folder, stack file) of `ref`: a stack file (this program) or a git revision (its own tree)."""
    if Path(ref).exists():
        return ROOT, Path(ref).resolve()
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                         capture_output=True, text=True)
    if rev.returncode != 0:
        raise PlanError(f"--against {ref}: neither a stack file nor a git revision of {ROOT}")
    rel = stack_path.resolve().relative_to(ROOT)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev.stdout.strip()],
                             capture_output=True, check=True)
    (tmp / "tree.tar").write_bytes(archive.stdout)
    tree = tmp / "tree"
    with tarfile.open(tmp / "tree.tar") as tf:
        tf.extractall(tree, filter="data")
    if not (tree / rel).exists():
        raise PlanError(f"--against {ref}: {rel} does not exist at that revision")
    return tree, tree / rel


def against(ref: str, stack_path: Path) -> dict[str, Any]:
    """The lifecycle diff of `stack_path` against `ref`: {stack, scripts, other, refused}."""
    with tempfile.TemporaryDirectory(prefix="stackkit-against-") as tmp:
        program, old = _tree(ref, stack_path, Path(tmp))
        name = _stack_name(stack_path)
        base: dict[str, Any] = {"stack_file": str(old), "program": str(program), "config": None, "change": {}}
        new: dict[str, Any] = {"stack_file": str(stack_path.resolve()), "program": str(ROOT), "config": None,
                               "change": {}}
        return {"stack": name, **previews(base, [new], name)[0]}


def render(diff: dict[str, Any], as_json: bool = False) -> str:
    if as_json:
        return json.dumps(diff, indent=1)
    if diff.get("refused"):
        return "\n".join([f"lifecycle diff of stack {diff['stack']}: refused before anything runs, nothing would change",
                          *(f"REFUSED {p}" for p in diff["refused"])])
    scripts = [Script(**s) for s in diff["scripts"]]
    lines = [f"lifecycle diff of stack {diff['stack']}: {sum(s.runs for s in scripts)} scripts would run "
             "(the engine's preview)"]
    by_instance: dict[str, list[Script]] = {}
    for s in scripts:
        by_instance.setdefault(s.instance, []).append(s)
    for inst in sorted(by_instance, key=lambda i: by_instance[i][0].order):
        lines.append(f"{inst}:")
        for s in by_instance[inst]:
            what = f"runs {s.event}" if s.runs else "runs nothing"
            lines.append(f"  {s.order:>4}. {s.command:<24} {s.op:<18} {what:<22} {s.reason}")
    if diff["other"]:
        lines.append("other resources: " + ", ".join(f"{n} {op}" for op, n in sorted(diff["other"].items())))
    if len(lines) == 1:
        lines.append("nothing would change")
    return "\n".join(lines)


# --- in the namespace ---------------------------------------------------------------------------------------------------
def _local(base: Path, name: str, d: dict[str, Any], key: tuple[str, str]) -> Any:
    return LocalStack(Path(d["stack_file"]), base, settings=Settings(mode=HOSTS), program=Path(d["program"]),
                      config=d.get("config"), change=d.get("change") or {}, ssh_key=key, name=name)


def _isolated(request: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="stackkit-records-") as tmp:
        base = Path(tmp)
        key = ssh_keypair(base / "ssh" / "id_ed25519")
        name = request["name"]
        old = _local(base, name, request["base"], key)
        old.up()
        before = old.export()
        out: list[dict[str, Any]] = []
        for change in request["previews"]:
            new = _local(base, name, change, key)
            try:
                rec = new.preview()
            except UpFailed as exc:
                out.append({"scripts": [], "other": {}, "refused": refusal(exc), "steps": []})
                continue
            scripts = runs(rec.steps, before, rec.outputs.get("commands"))
            other = Counter(s.op for s in rec.steps if s.changes and s.type != COMMAND and s.type not in IGNORED)
            out.append({"scripts": [asdict(s) for s in scripts], "other": dict(other), "refused": [],
                        "steps": [[s.op, s.type, s.name] for s in rec.steps if s.changes and s.type not in IGNORED]})
        return {"previews": out}


def refusal(exc: Any) -> list[str]:
    """The problems a failed preview reported: a stackkit error's problem lines (StackkitError subclasses print one
    problem per line, indented by two spaces, under a one-line head) or, for any other failure, the engine's errors."""
    raw = [line for _, text in exc.recorder.errors for line in text.splitlines()]
    # once each: the engine may report the program's error in more than one diagnostic
    problems = list(dict.fromkeys(line.strip() for line in raw if line.startswith("  ") and line.strip()))
    if problems:
        return problems
    found = [line.strip() for line in raw if line.strip() and not line.strip().startswith(
        ("error: update failed", "error: preview failed", "Resource monitor"))]
    return found or [str(exc).splitlines()[0]]


def table(results: list[tuple[str, dict[str, Any]]]) -> str:
    """docs/lifecycle.md's event table: per documented change, the scripts that run and the commands the engine
    touches without running a script (with why). The engine runs independent steps in parallel, so their order varies
    from run to run: the table lists creates and updates before deletes, each in event order, then by instance
    (the order section of docs/lifecycle.md says what waits for what)."""
    rows = ["| change | scripts that run (instance: event; creates and updates, then deletes) | runs nothing |",
            "|---|---|---|"]
    for name, result in results:
        scripts = [Script(**s) for s in result["scripts"]]
        ran = [f"{s.instance}: {s.event}" for s in sorted(
            (s for s in scripts if s.runs), key=lambda s: (s.phase == "delete", EVENTS.index(s.event or ""), s.instance))]
        idle = sorted({f"{s.instance}: {s.command.split('-', 1)[1]} ({s.reason})" for s in scripts
                       if not s.runs and s.reason != NO_DELETE})
        rows.append(f"| {name} | {', '.join(ran) or 'nothing'} | {', '.join(idle) or '-'} |")
    return "\n".join(rows) + "\n"


def apply_changes(stack_file: Path, changes: list[Change]) -> list[dict[str, Any]]:
    """Deployments of `stack_file` with each change applied (stackkit.config.patch's format)."""
    return [{"stack_file": str(stack_file), "program": str(ROOT), "config": None, "change": c} for c in changes]


if __name__ == "__main__":
    request_file, result_file = sys.argv[1:3]
    Path(result_file).write_text(json.dumps(_isolated(json.loads(Path(request_file).read_text()))))
