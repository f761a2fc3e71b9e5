"""The e2e cluster: real Debian 12 machines (systemd-nspawn) on a private bridge, converged by `stackkit local`."""

from __future__ import annotations

import base64
import copy
import os
import shutil
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from stackkit.config.stackfile import read_stack_file
from stackkit.lifecycle.rules import commands
from stackkit.local import gitserve
from stackkit.local.machines import Fleet
from stackkit.local.runner import Runner, UpReport
from stackkit.local.ssh import Result, run_remote
from stackkit.local.state import LocalState
from stackkit.local.traffic import Traffic  # noqa: F401 (the e2e tests import it from here)
from stackkit.paths import ROOT

HERE = Path(__file__).resolve().parent
WORKDIR = Path(os.environ.get("STACKKIT_E2E_DIR", "/var/tmp/stackkit-e2e"))


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


class Cluster:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.fleet = Fleet(workdir, bridge="skbr1", subnet="10.214.0.0/24")
        self.stack_file = HERE / "Pulumi.e2e.yaml"
        self.base = read_stack_file(self.stack_file)
        self.config: dict[str, Any] = copy.deepcopy(self.base.config)
        self.state_path = workdir / "state" / "e2e.json"
        self.password = self.base.placeholders["stackkit:apps.site.secret_environment.ADMIN_PASSWORD"]
        self.reports: list[UpReport] = []
        self.log: list[str] = []

    def publish(self, folder: Path) -> str:
        gitserve.serve(self.workdir, self.fleet.gateway)
        tag = gitserve.publish("site", folder, self.workdir)
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

    def runner(self, replace: frozenset[str] = frozenset()) -> Runner:
        overrides = {k: v for k, v in self.config.items() if k.startswith("stackkit:")}
        return Runner(self.stack_file, self.fleet, self.state_path, run_remote, log=self.log.append,
                      overrides=overrides, replace=replace)

    def predicted(self) -> set[tuple[str | None, str | None, str]]:
        runner = self.runner()
        state = LocalState.load(self.state_path, stack="e2e")
        _, todo = runner.plan(state)
        return {(s.instance, s.event, s.phase) for s in commands(todo)}

    def up(self, replace: frozenset[str] = frozenset()) -> UpReport:
        report = self.runner(replace).up()
        self.reports.append(report)
        return report

    def address(self, instance: str) -> str:
        state = LocalState.load(self.state_path, stack="e2e")
        return state.addresses[state.machines[instance]]

    def host_key(self, instance: str) -> str:
        """The instance's pinned host key (what its machine was booted with): the tests check it like the runner."""
        state = LocalState.load(self.state_path, stack="e2e")
        key = self.fleet.host_key(state.machines[instance])
        assert key, f"{instance} has no pinned host key"
        return key

    def sh(self, instance: str, script: str) -> Result:
        conn = {"host": self.address(instance), "user": "admin", "privateKey": self.fleet.private_key,
                "hostKey": self.host_key(instance)}
        return run_remote(conn, "sudo -n bash -s", script)

    def host(self, instance: str):  # type: ignore[no-untyped-def]
        import testinfra

        key = self.fleet.workdir / "ssh" / "id_ed25519"
        address = self.address(instance)
        known = self.workdir / "ssh" / f"known_hosts.{instance}"
        known.write_text(f"{address} {self.host_key(instance)}\n")
        return testinfra.get_host(f"ssh://admin@{address}", ssh_identity_file=str(key), sudo=True,
                                  ssh_extra_args=f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={known} "
                                                 "-o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR")

    def url(self) -> str:
        return f"http://{self.address('web1')}/"


@pytest.fixture(scope="session")
def cluster() -> Any:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    # a clean start: machines and state of an earlier run go; the base tree is kept (it takes a minute to build)
    fleet = Fleet(WORKDIR, bridge="skbr1", subnet="10.214.0.0/24")
    fleet.teardown()
    gitserve.stop(WORKDIR)
    for sub in ("machines", "volumes", "state", "git", "fleet.json"):
        target = WORKDIR / sub
        shutil.rmtree(target, ignore_errors=True) if target.is_dir() else target.unlink(missing_ok=True)
    c = Cluster(WORKDIR)
    c.fleet.ensure_host()
    start = time.monotonic()
    c.fleet.base_tree()
    c.base_seconds = time.monotonic() - start
    c.publish(ROOT / "examples/site")
    yield c
    if os.environ.get("STACKKIT_E2E_KEEP"):
        return                       # leave the machines up to look at them (stackkit local down cleans up)
    for name in list(c.fleet.state()):
        c.fleet.destroy(name)
    gitserve.stop(WORKDIR)
    c.fleet.teardown()
    shutil.rmtree(WORKDIR / "volumes", ignore_errors=True)


# The e2e modules share one cluster: test_cluster.py converges it and changes it the way operators do; the other
# modules (auto healing, host keys, users) build on the converged cluster while it still serves the app; removing the
# app is test_cluster.py's last step, so it runs after all of them; then test_plone.py brings it back as Plone.
LAST = "test_removing_the_app_undeploys_once"


def _e2e_order(item: pytest.Item) -> int:
    if item.path.name == "test_plone.py":
        return 3                     # the app comes back as a real Plone site, after the removal
    if item.name == LAST:
        return 2
    return 0 if item.path.name == "test_cluster.py" else 1


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    slots = [i for i, item in enumerate(items) if here in item.path.parents]
    ordered = sorted((items[i] for i in slots), key=_e2e_order)   # stable: each module keeps its own order
    for i, item in zip(slots, ordered, strict=True):
        items[i] = item
