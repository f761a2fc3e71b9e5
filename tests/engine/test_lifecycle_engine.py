"""The lifecycle under Pulumi's real engine: for each documented config change of the production stack, exactly the
expected scripts run, read from the engine's own preview (stackkit.plan.against: production brought up records-only
by the real engine and the real pulumi-command provider, each change previewed against it, its steps turned into
scripts by stackkit.plan.whatruns). Also: the order that keeps load balancers away from a vanished backend, the
refusals that come before anything runs, and docs/lifecycle.md's table.

One records-only `up` per base config (production, and production with users for the users scenarios), then one
`pulumi preview` per change; the whole run happens in a network namespace of its own.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from stackkit.config.patch import apply
from stackkit.config.stackfile import read_stack_file
from stackkit.lifecycle.scenarios import APP_SCENARIOS, SCENARIOS, USERS_SCENARIOS
from stackkit.plan.against import apply_changes, previews, table
from tests.conftest import ROOT

pytestmark = pytest.mark.engine
PROD = ROOT / "Pulumi.production.yaml"
BASE = {"stack_file": str(PROD), "program": str(ROOT), "config": None, "change": {}}

# Auto healing's alarms are an input of no lifecycle command (stackkit.components.healing): turning it off or on, or
# notifying a topic, runs no script. Schedules and load-based thresholds neither: a stopped instance stays a member.
NO_SCRIPT = [
    ("auto healing off on a layer", {"layers.plone.auto_healing": False}),
    ("auto healing off on one of an instance's layers", {"layers.maintenance.auto_healing": False}),
    ("alarms notify a topic", {"stack.notifications": {"topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops-alerts"}}),
    ("schedule removed", {"-instances.app4.schedule": None}),
    ("schedule changed", {"instances.app4.schedule": {"timezone": "UTC", "sat": "10-12"}}),
    ("another time-based instance", {"instances.app3.schedule": {"mon": "08-18"}}),
    ("thresholds changed", {"layers.plone.load_based.up.cpu": 70, "layers.plone.load_based.ignore_minutes": 10}),
    ("load-based off", {"-layers.plone.load_based": None, "-instances.app5.load_based": None}),
    ("another load-based instance", {"instances.app3.load_based": True}),
]
# (change, the instances whose wake and settle are invoked again: those where a script runs)
WOKEN = [
    ("a deploy everywhere", {"apps.site.source.revision": "v2"}, {"app4", "app5"}),
    ("configure on the frontends", {"instances.web3": {"layers": ["frontend"], "az": 0}}, set()),
    ("app5's own configure", {"instances.app5.attributes": {"plone": {"threads": 3}}}, {"app5"}),
]
SPECIAL = {
    "remove app5": {"-instances.app5": None},
    "db1 to another AZ": {"instances.db1.az": 1},
    "db1 resized": {"instances.db1.type": "m6i.xlarge"},
    "nothing": {},
}


def _changes() -> dict[str, dict[str, Any]]:
    out = {name: change for name, change, _ in [*SCENARIOS, *APP_SCENARIOS]}
    out.update({f"no script: {n}": c for n, c in NO_SCRIPT})
    out.update({f"woken: {n}": c for n, c, _ in WOKEN})
    out.update(SPECIAL)
    return out


def upgraded(tree: Path) -> Path:
    """This program as a stackkit release that changes only the runtime would be: the host's runtime code and the
    shell library every script shares edited, nothing else (a copy of the tracked files)."""
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        if (ROOT / rel).is_file():
            (tree / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, tree / rel)
    host = tree / "stackkit/lifecycle/host.py"
    host.write_text(host.read_text() + "\n\ndef _release_note() -> str:\n    return 'a runtime-only release'\n")
    prelude = tree / "stackkit/lifecycle/prelude.sh"
    prelude.write_text(prelude.read_text() + "\nsk_release_note() { echo 'a runtime-only release'; }\n")
    return tree


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """name -> the preview of that change against production brought up records-only."""
    names = list(_changes())
    release = {**BASE, "program": str(upgraded(tmp_path_factory.mktemp("release")))}
    results = previews(BASE, [*apply_changes(PROD, [_changes()[n] for n in names]), release], "production")
    return {**dict(zip(names, results[:-1], strict=True)), "runtime-only release": results[-1]}


def ran(result: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(command, op, phase) of every script the preview says runs (a replacement's create and delete: `replace`)."""
    op = {"create": "create", "update": "update", "delete": "delete", "create-replacement": "replace",
          "delete-replaced": "replace"}
    assert not result["refused"], result["refused"]
    return {(s["command"], op[s["op"]], s["phase"]) for s in result["scripts"] if s["event"] is not None}


@pytest.mark.parametrize("name,change,expected", [*SCENARIOS, *APP_SCENARIOS],
                         ids=[s[0] for s in [*SCENARIOS, *APP_SCENARIOS]])
def test_exactly_the_expected_scripts_run(production: dict, name: str, change: dict, expected: set) -> None:
    assert ran(production[name]) == expected


def test_an_unchanged_config_runs_nothing_and_changes_nothing(production: dict) -> None:
    assert ran(production["nothing"]) == set() and production["nothing"]["steps"] == []


def test_a_runtime_only_release_updates_only_the_library_copies(production: dict) -> None:
    """Upgrading stackkit restarts nothing: a release that changes only the host runtime and the shell library
    updates each instance's library copy, and no command (issue 24: the preview lists only the libraries)."""
    result = production["runtime-only release"]
    instances = read_stack_file(PROD).config["stackkit:instances"]
    assert ran(result) == set() and result["scripts"] == []
    libraries = [tuple(s) for s in result["steps"] if s[1] == "command:remote:CopyToRemote"]
    assert sorted(libraries) == sorted(("update", "command:remote:CopyToRemote", f"{i}-library") for i in instances)
    # the time- and load-based instances (app4, app5) may be stopped: they are woken to receive their copy, and
    # settled after, as for any change that reaches them (stackkit.components.wake); nothing else changes
    others = {(op, t, n) for op, t, n in (tuple(s) for s in result["steps"]) if t != "command:remote:CopyToRemote"}
    assert others == {(op, "aws:lambda/invocation:Invocation", f"{i}-{w}") for i in ("app4", "app5")
                      for w in ("wake", "settle") for op in ("replace", "create-replacement", "delete-replaced")}


@pytest.mark.parametrize("name", [n for n, _ in NO_SCRIPT])
def test_healing_schedules_and_thresholds_run_no_script(production: dict, name: str) -> None:
    result = production[f"no script: {name}"]
    assert ran(result) == set()
    assert result["steps"], "the change does change resources (alarms, schedules, functions)"


@pytest.mark.parametrize("name,change,woken", WOKEN, ids=[w[0] for w in WOKEN])
def test_wake_and_settle_are_invoked_again_exactly_where_a_script_runs(production: dict, name: str, change: dict,
                                                                       woken: set) -> None:
    result = production[f"woken: {name}"]
    invoked = {n.rsplit("-", 1)[0] for op, t, n in result["steps"]
               if t == "aws:lambda/invocation:Invocation" and op in ("create", "create-replacement")}
    assert invoked == woken
    assert woken <= {s["instance"] for s in result["scripts"] if s["event"] is not None}


def test_removing_the_app_undeploys_once_per_instance_and_a_new_revision_never(production: dict) -> None:
    removed = production["remove the app"]["scripts"]
    assert sorted(s["instance"] for s in removed if s["event"] == "undeploy") == ["app1", "app2", "app3", "app4", "app5"]
    assert {s["event"] for s in production["new revision"]["scripts"] if s["event"]} == {"deploy"}


def test_replacing_an_instance_never_undeploys_against_it(production: dict) -> None:
    scripts = production["replace a plone instance (new AZ)"]["scripts"]
    old_deploy = [s for s in scripts if s["command"] == "app1-deploy-site" and s["phase"] == "delete"]
    assert len(old_deploy) == 1 and old_deploy[0]["event"] is None and "deleted with app1" in old_deploy[0]["reason"]


def test_a_removed_instance_shuts_down_after_the_survivors_configure_and_before_it_goes(production: dict) -> None:
    steps = [(op, n) for op, _, n in production["remove app5"]["steps"]]
    assert steps.index(("create-replacement", "web1-configure")) < steps.index(("delete", "app5-shutdown")) \
        < steps.index(("delete", "app5"))


@pytest.fixture(scope="module")
def frontends() -> dict[str, Any]:
    """Production whose frontends hold no Elastic IP (a frontend with one is protected data: tests/data_moves), and
    web2 removed from it."""
    base = {**BASE, "change": {"layers.frontend.elastic_ips": False}}
    return previews(base, [{**BASE, "change": {"layers.frontend.elastic_ips": False, "-instances.web2": None}}],
                    "production")[0]


def test_a_removed_frontend_leaves_the_load_balancer_before_its_shutdown(frontends: dict) -> None:
    steps = [(op, n) for op, _, n in frontends["steps"]]
    assert steps.index(("delete", "frontend-tg-web2")) < steps.index(("delete", "web2-shutdown")) \
        < steps.index(("delete", "web2")), "out of the load balancer first, then the shutdown, then the instance"
    assert {s["instance"] for s in frontends["scripts"] if s["event"] == "configure"} == set(), \
        "no survivor watches the frontends"


def test_moving_a_data_instance_is_refused_before_anything_runs(production: dict) -> None:
    refused = production["db1 to another AZ"]["refused"]
    moved = [p for p in refused if p.startswith("instances.db1.az: changing az from 0 to 1 replaces ")]
    assert len(moved) == len(set(moved)) == 2, refused
    named = sorted(m.split(" replaces ", 1)[1].split(" (", 1)[0] for m in moved)
    assert named == ["volume backups", "volume data"], refused
    assert all("docs/lifecycle.md" in m and "revert it" in m for m in moved), refused
    resized = production["db1 resized"]
    assert not resized["refused"]
    assert ("update", "aws:ec2/instance:Instance", "db1") in [tuple(s) for s in resized["steps"]]


def test_the_documented_table_is_the_engines(production: dict) -> None:
    doc = (ROOT / "docs/lifecycle.md").read_text()
    block = re.search(r"<!-- lifecycle:table:begin -->\n(.*?)<!-- lifecycle:table:end -->", doc, re.S)
    assert block is not None
    assert block.group(1) == table([(n, production[n]) for n, _, _ in SCENARIOS]), \
        "run `python -m stackkit docs` (it previews the scenarios on the engine)"


# --- the users steps ---------------------------------------------------------------------------------------------------
def _users_results() -> dict[str, dict[str, Any]]:
    """One records-only base per `before` (production with those users), each change previewed against it."""
    plain = read_stack_file(PROD).config
    by_base: dict[str, list[tuple[str, dict]]] = {}
    for name, before, change, _ in USERS_SCENARIOS:
        by_base.setdefault(json.dumps(before, sort_keys=True), []).append((name, change))
    out = {}
    for before_text, items in by_base.items():
        before = apply(plain, json.loads(before_text))
        base = {**BASE, "config": before}
        changes = [{**BASE, "config": apply(before, change)} for _, change in items]
        for (name, _), result in zip(items, previews(base, changes, "production"), strict=True):
            out[name] = result
    return out


@pytest.fixture(scope="module")
def users() -> dict[str, dict[str, Any]]:
    return _users_results()


@pytest.mark.parametrize("name,before,change,expected", USERS_SCENARIOS, ids=[s[0] for s in USERS_SCENARIOS])
def test_exactly_the_users_steps_run(users: dict, name: str, before: dict, change: dict, expected: set) -> None:
    assert ran(users[name]) == expected
