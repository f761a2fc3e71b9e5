"""The e2e cluster: real Debian 12 machines (systemd-nspawn) on a private bridge, converged by Pulumi's real engine
(`pulumi up` through the Automation API: stackkit.local.stack), pulumi-command running the lifecycle over SSH.

What ran is read from the engine and the machines, never predicted: the engine's steps (its events), and the line
every lifecycle run prints last, `stackkit-run {...}` (stackkit.lifecycle.host), which pulumi-command streams as the
command's output: which command ran which event, and whether its job ran or was unchanged.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from stackkit.config.stackfile import read_stack_file
from stackkit.engine.events import Step
from stackkit.local import gitserve
from stackkit.local.aws.cloud import MACHINES, Settings
from stackkit.local.machines import Fleet
from stackkit.local.stack import LocalStack, ssh_keypair
from stackkit.local.traffic import Traffic  # noqa: F401 (the e2e tests import it from here)
from stackkit.paths import ROOT

HERE = Path(__file__).resolve().parent
WORKDIR = Path(os.environ.get("STACKKIT_E2E_DIR", "/var/tmp/stackkit-e2e"))
# the bridge and subnet (another pair lets a second e2e run share the host)
BRIDGE = os.environ.get("STACKKIT_E2E_BRIDGE", "skbr1")
SUBNET = os.environ.get("STACKKIT_E2E_SUBNET", "10.214.0.0/24")
COMMAND = "command:remote:Command"
DELETES = ("undeploy", "shutdown", "lock_users")     # the events a command's delete runs
PHASE = {"create": "create", "create-replacement": "create", "update": "update", "delete": "delete",
         "delete-replaced": "delete"}


def basic_auth(password: str) -> str:
    """The Authorization header of Zope's admin user."""
    return "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()


def http(req: urllib.request.Request, timeout: float) -> tuple[int, str]:
    """(status, body) of a request; an HTTP error status is an answer too."""
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _skip_reason() -> str | None:
    if os.uname().sysname != "Linux":
        return "e2e machines need Linux"
    if os.geteuid() != 0:
        return "e2e machines need root (bridge, NAT, systemd-nspawn)"
    for tool in ("systemd-nspawn", "debootstrap", "iptables"):
        if shutil.which(tool) is None:
            return f"{tool} is missing: run scripts/setup as root"
    return None


@dataclass(frozen=True)
class Run:
    """One lifecycle run, as its command printed it (`stackkit-run {...}`, the last line of every run)."""

    command: str            # the command resource's name (app1-deploy-site)
    instance: str
    event: str              # what ran: setup, deploy, undeploy, configure, prepare, shutdown, users, lock_users
    result: str             # ran | unchanged
    started: float
    seconds: float


@dataclass
class UpReport:
    steps: list[Step] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    seconds: float = 0.0

    def ran(self) -> set[tuple[str, str, str]]:
        """(instance, event, phase) of every lifecycle script whose job ran; phase is the engine's step: create
        (a create or a replacement), update, delete."""
        phases: dict[str, set[str]] = {}
        for s in self.steps:
            if s.type == COMMAND and s.op in PHASE:
                phases.setdefault(s.name, set()).add(PHASE[s.op])
        out = set()
        for r in self.runs:
            if r.result != "ran":
                continue
            mine = phases.get(r.command, set())
            # a delete event ran in the engine's delete step; any other in its create or update step
            phase = "delete" if r.event in DELETES else next(iter(sorted(mine - {"delete"})), "?")
            out.add((r.instance, r.event, phase))
        return out

    def commands(self) -> list[tuple[str, str, str]]:
        return sorted(self.ran())

    def order(self) -> list[tuple[str, str]]:
        """(instance, event) of the runs, in the order they started."""
        return [(r.instance, r.event) for r in sorted(self.runs, key=lambda r: r.started) if r.result == "ran"]

    def changed(self, type_: str) -> list[Step]:
        return [s for s in self.steps if s.type == type_ and s.changes]

    def timeline(self, since: float) -> str:
        """The runs as `instance event: from-to s` after the wall-clock time `since` (a Traffic's t0), for a failure's
        message: which script ran when a request failed."""
        return "; ".join(f"{r.instance} {r.event}: {r.started - since:.1f}-{r.started - since + r.seconds:.1f} s"
                         for r in sorted(self.runs, key=lambda r: r.started) if r.result == "ran")


class Runs:
    """Collects every `stackkit-run` line the engine streams (a command's output arrives as diagnostics of its URN)."""

    def __init__(self, commands: dict[str, dict[str, Any]]) -> None:
        self.commands = commands
        self.runs: list[Run] = []

    def __call__(self, event: auto.EngineEvent) -> None:
        diag = event.diagnostic_event
        if diag is None or not diag.urn:
            return
        name = diag.urn.rsplit("::", 1)[-1]
        for line in diag.message.splitlines():
            if line.startswith("stackkit-run "):
                data = json.loads(line.split(" ", 1)[1])
                run = Run(command=name, instance=str((self.commands.get(name) or {}).get("instance") or name),
                          event=data["event"], result=data["result"], started=data["started"],
                          seconds=data["seconds"])
                if run not in self.runs:        # a line may come again (ephemeral progress, then the final output)
                    self.runs.append(run)


@dataclass
class Result:
    stdout: str
    stderr: str
    exit_code: int


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.stack_file = HERE / "Pulumi.e2e.yaml"
        self.base = read_stack_file(self.stack_file)
        self.config: dict[str, Any] = copy.deepcopy(self.base.config)
        self.ls = LocalStack(self.stack_file, workdir, program=ROOT, name="e2e",
                             settings=Settings(mode=MACHINES, bridge=BRIDGE, subnet=SUBNET, base_dir=str(workdir)))
        self.ls.ssh_key = ssh_keypair(self.ls.workdir / "ssh" / "id_ed25519")
        self.fleet = Fleet(self.ls.workdir / "cloud" / "fleet", bridge=BRIDGE, subnet=SUBNET, base_dir=workdir)
        self.password = self.ls.secret("stackkit:apps.site.secret_environment.ADMIN_PASSWORD")
        self.reports: list[UpReport] = []
        self.base_seconds = 0.0

    @property
    def git_dir(self) -> Path:
        return self.ls.workdir

    def publish(self, folder: Path) -> str:
        gitserve.serve(self.git_dir, self.fleet.gateway)
        tag = gitserve.publish("site", folder, self.git_dir)
        self.config["stackkit:apps"]["site"]["source"] = {"type": "git", "url": f"git://{self.fleet.gateway}/site.git",
                                                          "revision": tag}
        return tag

    def plone_instances(self) -> list[str]:
        """The plone layer's instances as the config stands now (the modules add and remove some)."""
        return sorted(n for n, i in self.config["stackkit:instances"].items() if "plone" in i["layers"])

    def publish_version(self, example: str, version: str, tmp: Path) -> str:
        """A new revision of examples/<example>: a copy whose VERSION file says `version`, published as app site."""
        folder = tmp / example
        shutil.copytree(ROOT / "examples" / example, folder)
        (folder / "VERSION").write_text(f"{version}\n")
        return self.publish(folder)

    # --- the engine --------------------------------------------------------------------------------------------------
    def _prepared(self) -> LocalStack:
        self.ls.config = copy.deepcopy(self.config)
        self.ls.prepare()
        return self.ls

    def outputs(self) -> dict[str, Any]:
        return self.ls.outputs()

    def up(self, replace: frozenset[str] = frozenset()) -> UpReport:
        """`pulumi up` with the config as it stands; raises stackkit.local.stack.UpFailed when it fails."""
        ls = self._prepared()
        previous = (ls.outputs().get("commands") or {}) if self.reports else {}
        urns = [ls.urn("aws:ec2/instance:Instance", n, ("stackkit:index:Instance",)) for n in sorted(replace)]
        runs = Runs(previous)
        t0 = time.monotonic()
        try:
            rec = ls.up(on_event=runs, replace=urns)
        finally:
            runs.commands = {**previous, **(ls.outputs().get("commands") or {})}
            runs.runs = [Run(**{**r.__dict__, "instance": str((runs.commands.get(r.command) or {}).get("instance")
                                                               or r.instance)}) for r in runs.runs]
        report = UpReport(steps=rec.steps, runs=runs.runs, seconds=time.monotonic() - t0)
        self.reports.append(report)
        return report

    def predicted(self) -> set[tuple[str, str, str]]:
        """What `pulumi preview` says would run: stackkit.local.whatruns over the engine's planned steps."""
        from stackkit.plan.whatruns import runs as what_runs

        ls = self._prepared()
        before = ls.export()
        rec = ls.preview()
        return {(s.instance, s.event, s.phase) for s in what_runs(rec.steps, before, rec.outputs.get("commands"))
                if s.runs}

    # --- the machines ------------------------------------------------------------------------------------------------
    def instance(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.outputs()["instances"][name]
        return found

    def address(self, instance: str) -> str:
        return str(self.instance(instance)["address"])

    def machine(self, instance: str) -> str:
        """The instance's machine: named by its EC2 id."""
        return str(self.instance(instance)["id"])

    def host_key(self, instance: str) -> str:
        """The instance's host key, as its machine was booted with it (what every command pins)."""
        key = self.fleet.host_key(self.machine(instance))
        assert key, f"{instance} has no pinned host key"
        return key

    def ssh_argv(self, instance: str, known: Path, user: str = "admin", key: Path | None = None) -> list[str]:
        known.write_text(f"{self.address(instance)} {self.host_key(instance)}\n")
        return ["ssh", "-i", str(key or self.ls.workdir / "ssh" / "id_ed25519"), "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
                f"{user}@{self.address(instance)}"]

    def sh(self, instance: str, script: str, user: str = "admin", key: Path | None = None) -> Result:
        """`script` as root on the instance (the deploy user and sudo, as the commands run), its host key pinned;
        stdout with its trailing newline trimmed (as pulumi-command records it)."""
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([*self.ssh_argv(instance, Path(tmp) / "known_hosts", user, key), "sudo -n bash -s"],
                                 input=script, capture_output=True, text=True, timeout=600)
        return Result(out.stdout.rstrip("\n"), out.stderr, out.returncode)

    def host(self, instance: str):  # type: ignore[no-untyped-def]
        import testinfra

        key = self.ls.workdir / "ssh" / "id_ed25519"
        address = self.address(instance)
        known = self.workdir / f"known_hosts.{instance}"
        known.write_text(f"{address} {self.host_key(instance)}\n")
        return testinfra.get_host(f"ssh://admin@{address}", ssh_identity_file=str(key), sudo=True,
                                  ssh_extra_args=f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={known} "
                                                 "-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR")

    def url(self) -> str:
        return f"http://{self.address('web1')}/"

    def haproxy_log(self, since: str = "-400s") -> str:
        """web1's haproxy log lines of requests that took over 5 s or did not answer 200, for a failure's message."""
        text = self.sh("web1", f"journalctl --no-pager -o cat -t haproxy --since {since}").stdout
        slow = []
        for line in text.splitlines():
            m = re.search(r" (-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+) (\d{3}) ", line)
            if m and (int(m[5]) > 5000 or m[6] != "200"):
                slow.append(line)
        return "haproxy, slow or failed:\n" + "\n".join(slow[-40:])


@pytest.fixture(scope="session")
def cluster() -> Any:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    # a clean start: machines and state of an earlier run go; the base tree is kept (it takes a minute to build)
    stale = Fleet(WORKDIR / "e2e" / "cloud" / "fleet", bridge=BRIDGE, subnet=SUBNET, base_dir=WORKDIR)
    for m in stale.status():
        stale.destroy(m.name)
    stale.teardown()
    gitserve.stop(WORKDIR / "e2e")
    shutil.rmtree(WORKDIR / "e2e", ignore_errors=True)
    c = Cluster(WORKDIR)
    c.fleet.ensure_host()
    start = time.monotonic()
    c.fleet.base_tree()
    c.base_seconds = time.monotonic() - start
    c.publish(ROOT / "examples/site")
    yield c
    if os.environ.get("STACKKIT_E2E_KEEP"):
        return                       # leave the machines up to look at them
    for m in c.fleet.status():
        c.fleet.destroy(m.name)
    gitserve.stop(c.git_dir)
    c.fleet.teardown()


# The e2e modules share one cluster: test_cluster.py converges it and changes it the way operators do; the other
# modules (auto healing, host keys, users) build on the converged cluster while it still serves the app; removing the
# app is test_cluster.py's last step, so it runs after all of them; then test_plone_first.py brings it back as the
# Zope app and switches it to Plone, and test_plone.py goes on with Plone.
LAST = "test_removing_the_app_undeploys_once"


def _e2e_order(item: pytest.Item) -> int:
    if item.path.name == "test_zz_destroy.py":
        return 5                     # pulumi destroy: the very last
    if item.path.name == "test_plone_first.py":
        return 3                     # the app comes back as Zope, then switches to Plone, after the removal
    if item.path.name == "test_plone.py":
        return 4                     # then goes on as a real Plone site
    if item.name == LAST:
        return 2
    return 0 if item.path.name == "test_cluster.py" else 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in item.path.parents]
    ordered = sorted((items[i] for i in slots), key=_e2e_order)   # stable: each module keeps its own order
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item
