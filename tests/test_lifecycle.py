"""The lifecycle through recorded plans and the engine model: exactly the expected scripts run for each config change,
in an order that keeps load balancers away from half-built or vanished backends, deterministically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.lifecycle.rules import commands, steps
from stackkit.lifecycle.scenarios import APP_SCENARIOS, SCENARIOS
from stackkit.lifecycle.script import RUN_JOB
from stackkit.plan.evaluate import Plan, Resource, evaluate
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def prod(stack_files: dict[str, StackFile]) -> StackFile:
    return stack_files["production"]


@pytest.fixture(scope="module")
def base(plans: dict[str, Plan]) -> Plan:
    return plans["production"]


def changed(sf: StackFile, change: dict) -> Plan:
    return evaluate(sf.with_change(change))


@pytest.mark.parametrize("name,change,expected", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_exactly_the_expected_scripts_run(prod: StackFile, base: Plan, name: str, change: dict, expected: set) -> None:
    got = {(s.name, s.op, s.phase) for s in commands(steps(base, changed(prod, change)))}
    assert got == expected


# Auto healing's alarms are an input of no lifecycle command (stackkit.components.healing): turning it off or on, or
# notifying a topic, runs no script; a recovered or rebooted instance is the same member of the cluster.
# (scenario, change, the alarms it removes, the alarms whose inputs change)
HEALING_SCENARIOS = [
    ("auto healing off on a layer", {"layers.plone.auto_healing": False},
     {f"app{i}-{a}" for i in range(1, 6) for a in ("recover", "reboot")}, set()),
    ("auto healing off on one of an instance's layers", {"layers.maintenance.auto_healing": False},
     {"db1-recover", "db1-reboot"}, set()),
    ("alarms notify a topic", {"stack.notifications": {"topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops-alerts"}},
     set(), {f"{i}-{a}" for i in ("web1", "web2", "app1", "app2", "app3", "app4", "app5", "db1")
             for a in ("recover", "reboot")}),
]
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


@pytest.mark.parametrize("name,change,removed,updated", HEALING_SCENARIOS, ids=[s[0] for s in HEALING_SCENARIOS])
def test_auto_healing_changes_run_no_script(prod: StackFile, base: Plan, name: str, change: dict, removed: set,
                                            updated: set) -> None:
    after = changed(prod, change)
    before_alarms = {r.name: r.inputs for r in base.of_type(ALARM)}
    after_alarms = {r.name: r.inputs for r in after.of_type(ALARM)}
    assert set(before_alarms) - set(after_alarms) == removed
    assert {n for n, i in after_alarms.items() if before_alarms[n] != i} == updated
    assert [s.name for s in commands(steps(base, after))] == []


def _events(prod: StackFile, base: Plan, change: dict) -> list[tuple[str | None, str | None, str]]:
    return [(s.instance, s.event, s.phase) for s in commands(steps(base, changed(prod, change)))]


def test_removing_the_app_undeploys_once_per_instance_and_a_new_revision_never(prod: StackFile, base: Plan) -> None:
    removed = _events(prod, base, {"-apps.site": None})
    undeploys = sorted(i for i, e, _ in removed if e == "undeploy")
    assert undeploys == ["app1", "app2", "app3", "app4", "app5"]
    revision = _events(prod, base, {"apps.site.source.revision": "v2"})
    assert {e for _, e, _ in revision} == {"deploy"}


def test_replacing_an_instance_never_undeploys_against_it(prod: StackFile, base: Plan) -> None:
    todo = steps(base, changed(prod, {"instances.app1.az": 1}))
    old_deploy = [s for s in todo if s.name == "app1-deploy-site" and s.phase == "delete"]
    assert len(old_deploy) == 1 and old_deploy[0].runs is None and "deletedWith" in old_deploy[0].reason
    assert not any(s.event == "undeploy" and s.runs for s in todo)


def test_removed_instance_shuts_down_after_survivors_configure_and_before_it_goes(prod: StackFile, base: Plan) -> None:
    todo = steps(base, changed(prod, {"-instances.web2": None}))
    at = {(s.name, s.phase): i for i, s in enumerate(todo)}
    assert at[("web2-shutdown", "delete")] < at[("web2", "delete")]
    assert at[("frontend-tg-web2", "delete")] < at[("web2-shutdown", "delete")], "out of the load balancer first"
    grown = steps(base, changed(prod, {"-instances.app5": None}))
    at = {(s.name, s.phase): i for i, s in enumerate(grown)}
    assert at[("web1-configure", "create")] < at[("app5-shutdown", "delete")] < at[("app5", "delete")]


def test_a_replaced_data_instance_is_blocked_by_its_protected_volume(prod: StackFile, base: Plan) -> None:
    todo = steps(base, changed(prod, {"instances.db1.az": 1}))
    assert {s.name for s in todo if s.blocked} == {"db1-data", "db1-backups"}
    resized = steps(base, changed(prod, {"instances.db1.type": "m6i.xlarge"}))
    assert not any(s.blocked for s in resized)
    assert {s.op for s in resized if s.name == "db1"} == {"update"}


def _deps(plan: Plan, name: str) -> set[str]:
    by = plan.by_urn()
    return {by[u].name for u in plan.named(name, "command:remote:Command").dependencies if u in by} if name.count("-") else set()


def _upstream(plan: Plan, resource: Resource) -> set[str]:
    """The names of every resource `resource` waits on through dependsOn, directly or not."""
    by, seen, todo = plan.by_urn(), set(), list(resource.options["dependsOn"])
    while todo:
        urn = todo.pop()
        if urn not in seen:
            seen.add(urn)
            todo.extend(by[urn].options["dependsOn"])
    return {by[u].name for u in seen}


def test_dependency_edges(base: Plan) -> None:
    barrier = base.named("plone-production-members-ready")
    by = base.by_urn()
    members = ["app1", "app2", "app3", "app4", "app5", "db1", "web1", "web2"]
    deploys = {f"app{n}-deploy-site" for n in range(1, 6)}
    assert _upstream(base, barrier) >= {f"{i}-setup" for i in members} | deploys
    # directly: every setup, and each app's last rolling batch only (app3: it waits on the earlier batches)
    assert {by[u].name for u in barrier.options["dependsOn"]} == {f"{i}-setup" for i in members} | {"app3-deploy-site"}
    for i in members:
        cfg = base.named(f"{i}-configure", "command:remote:Command")
        assert barrier.urn in cfg.options["dependsOn"]
        assert cfg.options["deletedWith"] == base.named(i, "aws:ec2/instance:Instance").urn
        shutdown = base.named(f"{i}-shutdown", "command:remote:Command")
        assert cfg.urn in shutdown.options["dependsOn"]
        assert shutdown.options["deletedWith"] is None
        assert base.named(f"{i}-setup", "command:remote:Command").options["deletedWith"]
    db1 = base.named("db1-shutdown", "command:remote:Command")
    assert {base.named("db1-data", "aws:ec2/volumeAttachment:VolumeAttachment").urn,
            base.named("db1-backups", "aws:ec2/volumeAttachment:VolumeAttachment").urn} <= set(db1.options["dependsOn"])
    # rolling deploy: production's plone layer deploys 40% (2 of 5) at a time, each batch after the previous one;
    # the time- and load-based instances first (app4, app5: capacity first), then app1, app2, then app3
    deploy = {i: set(base.named(f"app{i}-deploy-site").options["dependsOn"]) for i in range(1, 6)}
    urn = {i: base.named(f"app{i}-deploy-site").urn for i in range(1, 6)}
    assert urn[4] not in deploy[5] and urn[5] not in deploy[4]
    # every batch after the first waits on a barrier over the previous batch (edges linear in the batch size)
    first = base.named("plone-production-site-batch-1")
    assert {urn[4], urn[5]} <= set(first.options["dependsOn"]) and first.urn in deploy[1] and first.urn in deploy[2]
    batch = base.named("plone-production-site-batch-2")
    assert {urn[1], urn[2]} <= set(batch.options["dependsOn"]) and batch.urn in deploy[3]
    for n in range(1, 6):
        assert base.named(f"app{n}-deploy-site").secret_inputs["delete"] == RUN_JOB.format(event="undeploy")
    for tg in ("frontend-tg-web1", "frontend-tg-web2"):
        assert base.named(tg.replace("frontend-tg-", "") + "-shutdown").urn in base.named(tg).options["dependsOn"]


def _reordered(config: dict) -> dict:
    """The same config with every mapping in reverse order."""
    if isinstance(config, dict):
        return {k: _reordered(config[k]) for k in reversed(list(config))}
    if isinstance(config, list):
        return [_reordered(v) for v in config]
    return config


def test_command_inputs_are_deterministic(prod: StackFile, base: Plan) -> None:
    again = evaluate(prod)
    shuffled = evaluate(StackFile(prod.path, _reordered(prod.config), prod.secret_keys, prod.placeholders))
    def inputs(p: Plan) -> dict:
        return {r.urn: r.secret_inputs for r in p.of_type("command:remote:Command")}
    assert inputs(again) == inputs(base)
    assert inputs(shuffled) == inputs(base)
    assert steps(base, shuffled) and all(s.op == "same" for s in steps(base, shuffled))


def test_secrets_travel_only_in_secret_inputs(base: Plan) -> None:
    for r in base.of_type("command:remote:Command"):
        assert set(r.options["additionalSecretOutputs"]) >= {"stdout", "stderr"}
        assert r.secret_inputs["addPreviousOutputInEnv"] is False
    carrying = {r.name for r in base.of_type("command:remote:Command") if r.inputs["stdin"] == "[secret]"}
    # the app's secret environment goes where the app is deployed (deploy writes it, configure creates the admin user)
    assert carrying == {f"app{n}-{c}" for n in range(1, 6) for c in ("deploy-site", "configure")}


def test_plan_against_a_stack_file(tmp_path: Path) -> None:
    old = tmp_path / "Pulumi.production.yaml"
    old.write_text((ROOT / "Pulumi.production.yaml").read_text().replace(
        "    app5: {layers: [plone], type: t3.large, az: 0, load_based: true}\n", ""))
    result = subprocess.run([sys.executable, "-m", "stackkit", "plan", "production", "--against", str(old)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "lifecycle diff of stack production: 6 scripts would run"
    blocks = {line.rstrip(":") for line in lines if line.endswith(":")}
    assert blocks == {"app5", "web1", "web2"}


def test_every_command_runs_an_event_of_the_table(plans: dict[str, Plan]) -> None:
    """The model reads a command's event from stackkit.lifecycle.bundle's table, never from its text: every command's
    create and delete of every shipped stack is in it."""
    from stackkit.lifecycle.script import EVENT_OF
    seen = set()
    for plan in plans.values():
        for r in plan.of_type("command:remote:Command"):
            for script in ("create", "delete"):
                if r.secret_inputs.get(script):
                    seen.add(EVENT_OF[r.secret_inputs[script]])
    # no shipped stack has stackkit:users (tests/test_users.py covers users and lock_users)
    assert seen == {"setup", "deploy", "undeploy", "configure", "prepare", "shutdown"}


@pytest.mark.parametrize("name,change,expected", APP_SCENARIOS, ids=[s[0] for s in APP_SCENARIOS])
def test_app_changes_run_configure_only_where_a_layer_reads_them(prod: StackFile, base: Plan, name: str, change: dict,
                                                                 expected: set) -> None:
    got = {(s.name, s.op, s.phase) for s in commands(steps(base, changed(prod, change)))}
    assert got == expected
