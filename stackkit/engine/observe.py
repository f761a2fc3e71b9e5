"""Model against engine: what `plan --against` predicts for each lifecycle scenario, what the real engine plans
(`pulumi preview --json` from a converged stack), and what ran on the machines (`pulumi up`, the scripts' own log
lines), recorded as data in tests/engine/observed/<stack>.json.

    python -m stackkit.engine.observe production [--apply]     (root, Linux; needs pulumi-resource-command)

A recording is made where pulumi-command's provider can run (docs/engine.md); tests/engine/test_agreement.py
compares the model with it on every test run, so a model change that disagrees with the observed engine fails.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackkit.config.patch import Change, apply
from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.lifecycle.rules import commands, steps
from stackkit.lifecycle.scenarios import SCENARIOS
from stackkit.paths import ROOT
from stackkit.plan.evaluate import Plan, evaluate

OBSERVED = ROOT / "tests" / "engine" / "observed"
COMMAND = "command:remote:Command"
# the first line every lifecycle script prints (stackkit/lifecycle/prelude.sh): "stackkit[hh:mm:ss]: <event> ..."
SCRIPT_LINE = re.compile(r"stackkit\[[\d:]+\]: (setup|deploy|undeploy|configure|prepare|shutdown)\b")
SECOND_KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL7yN9m4m4b8eQkVQ0ZlP6zq3w1s4o8mG0uQ0kq9rY2x stackkit-rotated")


@dataclass(frozen=True)
class Scenario:
    name: str
    change: Change
    edit: tuple[str, str] | None = None    # (layer file, text appended): a layer edit


def scenarios() -> list[Scenario]:
    """The documented scenarios (stackkit.lifecycle.scenarios) and the ones the engine is most likely to see
    differently: a new SSH key pair, an instance rename, a layer script edit."""
    out = [Scenario(name, change) for name, change, _ in SCENARIOS]
    out.append(Scenario("new SSH public key (key pair)", {"stack.ssh_public_key": SECOND_KEY}))
    out.append(Scenario("rename an instance (app5 -> app9)",
                        {"-instances.app5": None, "instances.app9": {"layers": ["plone"], "type": "t3.large", "az": 0}}))
    out.append(Scenario("edit a layer script (frontend configure)", {},
                        edit=("layers/frontend/configure.sh.j2", "\n# edited: a layer change\n")))
    return out


# --- the model ----------------------------------------------------------------------------------------------------------

def edited_tree(stack_file: Path, change: Change, edit: tuple[str, str], into: Path) -> Path:
    """A copy of the program with one layer file edited and the stack file changed (secure values kept)."""
    from ruamel.yaml import YAML

    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(ROOT, into, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "tests", "benchmarks"))
    (into / edit[0]).write_text((into / edit[0]).read_text() + edit[1])
    yaml = YAML()
    doc = yaml.load(stack_file.read_text())
    changed = apply(dict(doc["config"]), change)
    doc["config"].clear()
    doc["config"].update(changed)
    with (into / stack_file.name).open("w") as f:
        yaml.dump(doc, f)
    return into


def predicted(sf: StackFile, base: Plan, change: Change, tree: Path | None = None) -> list[dict[str, str]]:
    """The lifecycle scripts the model says run, in its order: [{name, op, phase, runs}]."""
    if tree is None:
        new = evaluate(sf.with_change(change))
    else:
        from stackkit.plan.diff import evaluate_tree
        new = evaluate_tree(tree, tree / sf.path.name)
    return [{"name": s.name, "op": s.op, "phase": s.phase, "runs": s.runs or "", "event": s.event or ""}
            for s in commands(steps(base, new))]


# --- the engine ---------------------------------------------------------------------------------------------------------

ENGINE_OPS = {  # preview step op -> (op, phase) in the model's terms
    "create": ("create", "create"), "update": ("update", "update"), "replace": ("replace", "create"),
    "create-replacement": ("replace", "create"), "delete-replaced": ("replace", "delete"),
    "delete": ("delete", "delete"), "discard": ("delete", "delete"),
}


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def preview_steps(preview: dict[str, Any]) -> list[dict[str, str]]:
    """Every non-`same` step of a `pulumi preview --json`, in its order: [{name, type, op, phase}]."""
    out = []
    for st in preview.get("steps", []):
        op = st.get("op")
        if op in ENGINE_OPS:
            o, phase = ENGINE_OPS[op]
            out.append({"name": urn_name(st["urn"]), "type": st["urn"].rsplit("::", 2)[-2].rsplit("$", 1)[-1],
                        "op": o, "phase": phase, "engine_op": op})
    return out


def ran_on_machines(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The lifecycle scripts that ran, in order, from their own first log line (pulumi-command relays it)."""
    out, seen = [], set()
    for e in events:
        d = e.get("diagnosticEvent")
        if not d or not d.get("urn") or COMMAND not in d["urn"]:
            continue
        m = SCRIPT_LINE.search(d.get("message", ""))
        key = (d["urn"], m.group(1)) if m else None
        if m and key not in seen:
            seen.add(key)
            out.append({"name": urn_name(d["urn"]), "event": m.group(1)})
    return out


def _ssh(fleet: Any, address: str, command: str) -> str:
    key = fleet.workdir / "ssh" / "id_ed25519"
    out = subprocess.run(["ssh", "-i", str(key), "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                          "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", f"admin@{address}",
                          command], capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def experiments(stack: Any, engine: Any, wd: Path, fleet: Any) -> dict[str, Any]:
    """What the engine does on a failing deploy and a resumed `up`, and on replacing the ZEO server (its data
    volume must move to the new machine)."""
    from stackkit.engine.localstack import parse_events

    out: dict[str, Any] = {}
    log = wd / "events.jsonl"
    # 1. a revision that does not exist: the deploys fail; then the right one: `up` resumes
    bad = stack({"apps.site.source.revision": "no-such-revision"})
    bad.prepare()
    log.unlink(missing_ok=True)
    first = bad.run(engine, "up", "--yes", "--skip-preview", "--event-log", str(log), check=False, timeout=1800)
    failed = sorted({urn_name(e["resOpFailedEvent"]["metadata"]["urn"]) for e in parse_events(log)
                     if "resOpFailedEvent" in e})
    good = stack({})
    good.prepare()
    log.unlink(missing_ok=True)
    second = good.run(engine, "up", "--yes", "--skip-preview", "--event-log", str(log), check=False, timeout=1800)
    out["failing_deploy"] = {"first_up_exit": first.returncode, "failed": failed,
                             "resumed_up_exit": second.returncode, "resumed_ran": ran_on_machines(parse_events(log))}
    # 2. `pulumi up --replace` of the ZEO server: a marker on its data volume must be on the new machine
    addresses = json.loads(good.run(engine, "stack", "output", "instances", "--json").stdout)
    marker = f"kept-{int(time.time())}"
    _ssh(fleet, addresses["db1"]["address"], f"echo {marker} | sudo tee /var/lib/zeoserver/MARKER >/dev/null; sudo sync")
    log.unlink(missing_ok=True)
    urn = f"urn:pulumi:{good.stack}::stackkit::stackkit:index:Stack$stackkit:index:Instance$aws:ec2/instance:Instance::db1"
    t = time.monotonic()
    rep = good.run(engine, "up", "--yes", "--skip-preview", f"--replace={urn}", "--event-log", str(log), check=False,
                   timeout=1800)
    seconds = round(time.monotonic() - t)
    after = json.loads(good.run(engine, "stack", "output", "instances", "--json").stdout)
    out["replace_zeoserver"] = {"exit": rep.returncode, "seconds": seconds,
                                "old_address": addresses["db1"]["private_ip"], "new_address": after["db1"]["private_ip"],
                                "marker_kept": _ssh(fleet, after["db1"]["address"], "cat /var/lib/zeoserver/MARKER") == marker,
                                "ran": ran_on_machines(parse_events(log))}
    return out


def main(argv: list[str] | None = None) -> int:
    from stackkit.engine.localstack import LocalStack, parse_events, ssh_keypair
    from stackkit.local import gitserve
    from stackkit.local.machines import Fleet

    ap = argparse.ArgumentParser(prog="python -m stackkit.engine.observe", description=__doc__.split("\n\n")[0])
    ap.add_argument("stack", nargs="?", default="production")
    ap.add_argument("--workdir", type=Path, default=Path("/var/tmp/stackkit-observe"))
    ap.add_argument("--apply", action="store_true", help="also apply each scenario, then go back to the base")
    ap.add_argument("--only", action="append", help="scenario names to run (default: all)")
    ap.add_argument("--traffic", action="store_true", help="with --apply: requests through web1 during each apply")
    ap.add_argument("--experiments", action="store_true",
                    help="also: a failing deploy then a resumed up; replacing the ZEO server keeps its data")
    ap.add_argument("--merge", action="store_true", help="replace only the scenarios run in the existing recording")
    ap.add_argument("--out", type=Path, help="where to write the recording (default: tests/engine/observed/<stack>.json)")
    ap.add_argument("--bridge", default="skbr5")
    ap.add_argument("--subnet", default="10.218.0.0/24")
    args = ap.parse_args(argv)

    stack_file = ROOT / f"Pulumi.{args.stack}.yaml"
    sf = read_stack_file(stack_file)
    wd: Path = args.workdir
    wd.mkdir(parents=True, exist_ok=True)
    machines = {"bridge": args.bridge, "subnet": args.subnet, "base_dir": "/var/tmp/stackkit-local"}
    fleet = Fleet(wd / "cloud" / "fleet", bridge=args.bridge, subnet=args.subnet,
                  base_dir=Path(machines["base_dir"]))
    fleet.ensure_host()
    fleet.base_tree()
    gitserve.serve(wd, fleet.gateway)
    tag = gitserve.publish("site", ROOT / "examples/site", wd)
    # a second revision of the site for "new revision" (v1.1.0 in the scenario: a real tag here)
    second = wd / "site-next"
    shutil.rmtree(second, ignore_errors=True)
    shutil.copytree(ROOT / "examples/site", second)
    (second / "REVISION").write_text("next\n")
    next_tag = gitserve.publish("site", second, wd)
    # the "add an app" scenario's app, served here too
    blog_tag = gitserve.publish("blog", ROOT / "examples/site", wd)
    key = wd / "id_ed25519"
    app_source = {"apps.site.source": {"type": "git", "url": f"git://{fleet.gateway}/site.git", "revision": tag}}
    base_change: Change = dict(app_source)

    def stack(change: Change, main_dir: Path = ROOT) -> LocalStack:
        ssh_key = ssh_keypair(key)
        if "apps.site.source.revision" in change:
            change = {**change, "apps.site.source.revision": next_tag}
        if "apps.blog" in change:
            blog = dict(change["apps.blog"])
            blog["source"] = {"type": "git", "url": f"git://{fleet.gateway}/blog.git", "revision": blog_tag}
            change = {**change, "apps.blog": blog}
        if "stack.ssh_public_key" in change:
            # a new key pair: the machines must accept its private half, so the local stack gets a real second key
            ssh_key = ssh_keypair(wd / "id_ed25519_rotated")
            change = {k: v for k, v in change.items() if k != "stack.ssh_public_key"}
        return LocalStack(stack_file, wd, machines=machines, change={**base_change, **change}, main=main_dir,
                          ssh_key=ssh_key)

    base_stack = stack({})
    engine = base_stack.prepare()
    t = time.monotonic()
    up = base_stack.run(engine, "up", "--yes", "--skip-preview", check=False, timeout=1800)
    if up.returncode != 0:
        print(up.stdout[-3000:], up.stderr[-2000:], file=sys.stderr)
        return 1
    converge = time.monotonic() - t
    base_model = evaluate(sf.with_change(base_change))
    record: dict[str, Any] = {"stack": args.stack, "pulumi": engine.pulumi("version").stdout.strip(),
                              "converge_seconds": round(converge), "scenarios": []}
    for sc in scenarios():
        if args.only and sc.name not in args.only:
            continue
        tree = edited_tree(stack_file, base_change, sc.edit, wd / "edited") if sc.edit else None
        ls = stack(sc.change, tree or ROOT)
        ls.prepare()
        pv = ls.run(engine, "preview", "--json", check=False, timeout=600)
        entry: dict[str, Any] = {"name": sc.name, "change": sc.change, "edit": sc.edit,
                                 "model": predicted(sf, base_model, {**base_change, **sc.change}, tree)}
        try:
            preview = json.loads(pv.stdout)
        except json.JSONDecodeError:
            preview = {}
        entry["engine"] = preview_steps(preview)
        entry["engine_error"] = [d["message"].strip()[:500] for d in preview.get("diagnostics", [])
                                 if d.get("severity") == "error"] or ([pv.stderr.strip()[-500:]] if pv.returncode else [])
        if args.apply and not entry["engine_error"]:
            log = wd / "events.jsonl"
            log.unlink(missing_ok=True)
            traffic = None
            if args.traffic:
                from stackkit.local.traffic import Traffic
                addresses = json.loads(ls.run(engine, "stack", "output", "instances", "--json").stdout)
                traffic = Traffic(f"http://{addresses['web1']['address']}/", max_seconds=1800)
                traffic.start()
            t = time.monotonic()
            run = ls.run(engine, "up", "--yes", "--skip-preview", "--event-log", str(log), check=False, timeout=1800)
            entry["apply_seconds"] = round(time.monotonic() - t)
            if traffic is not None:
                traffic.stop()
                entry["traffic"] = {"sent": traffic.sent, "failed": traffic.failed, "errors": traffic.errors}
            events = parse_events(log)
            entry["machines"] = ran_on_machines(events)
            entry["apply_ok"] = run.returncode == 0
            entry["failed"] = [urn_name(e["resOpFailedEvent"]["metadata"]["urn"]) for e in events
                               if "resOpFailedEvent" in e]
            if not entry["apply_ok"]:
                entry["apply_error"] = (run.stdout + run.stderr)[-1500:]
            back = stack({})
            back.prepare()
            back.run(engine, "up", "--yes", "--skip-preview", check=False, timeout=1800)
        record["scenarios"].append(entry)
        print(f"{sc.name}: model {len(entry['model'])} scripts, engine {len(entry['engine'])} steps"
              f"{', ERROR' if entry['engine_error'] else ''}", flush=True)
    if args.experiments:
        record["experiments"] = experiments(stack, engine, wd, fleet)
    OBSERVED.mkdir(parents=True, exist_ok=True)
    out = args.out or OBSERVED / f"{args.stack}.json"
    if args.merge and out.exists():
        old = json.loads(out.read_text())
        fresh = {s["name"]: s for s in record["scenarios"]}
        old["scenarios"] = [fresh.pop(s["name"], s) for s in old["scenarios"]] + list(fresh.values())
        old.update({k: v for k, v in record.items() if k not in ("scenarios", "converge_seconds")})
        record = old
    out.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"recorded {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
