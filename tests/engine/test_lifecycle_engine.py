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
    "remove web2": {"-instances.web2": None},
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


@pytest.fixture(scope="module")
def production() -> dict[str, dict[str, Any]]:
    """name -> the preview of that change against production brought up records-only."""
    names = list(_changes())
    results = previews(BASE, apply_changes(PROD, [_changes()[n] for n in names]), "production")
    return dict(zip(names, results, strict=True))


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
    steps = [(op, n) for op, _, n in production["remove web2"]["steps"]]
    assert steps.index(("delete", "web2-shutdown")) < steps.index(("delete", "web2"))
    assert steps.index(("delete", "frontend-tg-web2")) < steps.index(("delete", "web2-shutdown")), \
        "out of the load balancer first"
    steps = [(op, n) for op, _, n in production["remove app5"]["steps"]]
    assert steps.index(("create-replacement", "web1-configure")) < steps.index(("delete", "app5-shutdown")) \
        < steps.index(("delete", "app5"))


def test_moving_a_data_instance_is_refused_before_anything_runs(production: dict) -> None:
    refused = production["db1 to another AZ"]["refused"]
    assert any("instances.db1.volumes.data" in p for p in refused), refused
    assert any("instances.db1.volumes.backups" in p for p in refused), refused
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
