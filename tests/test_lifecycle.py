"""The lifecycle as the program declares it (the offline plan under Pulumi's mocks): its dependency edges, its
determinism, where secrets travel, and the `commands` record. Which scripts a change runs is the engine's to say:
tests/engine/test_lifecycle_engine.py."""

from __future__ import annotations

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.lifecycle.script import RUN_JOB, UPDATE_JOB
from stackkit.plan.evaluate import Plan, Resource, evaluate


@pytest.fixture(scope="module")
def prod(stack_files: dict[str, StackFile]) -> StackFile:
    return stack_files["production"]


@pytest.fixture(scope="module")
def base(plans: dict[str, Plan]) -> Plan:
    return plans["production"]


def changed(sf: StackFile, change: dict) -> Plan:
    return evaluate(sf.with_change(change))


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


def test_secrets_travel_only_in_secret_inputs(base: Plan) -> None:
    for r in base.of_type("command:remote:Command"):
        assert set(r.options["additionalSecretOutputs"]) >= {"stdout", "stderr"}
        assert r.secret_inputs["addPreviousOutputInEnv"] is False
    carrying = {r.name for r in base.of_type("command:remote:Command") if r.inputs["stdin"] == "[secret]"}
    # the app's secret environment goes where the app is deployed (deploy writes it, configure creates the admin user)
    assert carrying == {f"app{n}-{c}" for n in range(1, 6) for c in ("deploy-site", "configure")}


def test_every_command_is_in_the_commands_output_with_the_events_it_runs(plans: dict[str, Plan]) -> None:
    """The program records, as data, which event each command's create and delete run (the stack output `commands`,
    what `plan --against` and the console read): exactly its commands, and their strings are those events' runs."""
    seen = set()
    for plan in plans.values():
        recorded = plan.outputs["commands"]
        cmds = {r.name: r for r in plan.of_type("command:remote:Command")}
        assert set(recorded) == set(cmds)
        for name, entry in recorded.items():
            r = cmds[name]
            assert r.secret_inputs["create"] == RUN_JOB.format(event=entry["create"])
            assert r.secret_inputs["update"] == UPDATE_JOB.format(event=entry["create"])
            assert r.secret_inputs.get("delete") == (RUN_JOB.format(event=entry["delete"]) if entry["delete"] else None)
            assert name.startswith(f"{entry['instance']}-")
            seen |= {entry["create"], entry["delete"]}
    assert seen - {None} == {"setup", "deploy", "undeploy", "configure", "prepare", "shutdown", "users", "lock_users"}
