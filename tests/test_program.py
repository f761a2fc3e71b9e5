"""The program under Pulumi's mock runtime for production, staging and the RelStorage example: the resource graph,
every security-group rule, IMDSv2, encryption, protection of data, and no secret in plaintext anywhere."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from stackkit.plan.evaluate import Plan, Resource, evaluate
from stackkit.plan.golden import rendered

SG = "aws:ec2/securityGroup:SecurityGroup"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
WORLD = "0.0.0.0/0"


def _by_id(plan: Plan, typ: str) -> dict[str, str]:
    return {r.id: r.name for r in plan.of_type(typ)}


def ingress(plan: Plan) -> set[tuple[str, int, int, str]]:
    """Every ingress rule as (group, from port, to port, source group name or CIDR), inline or standalone."""
    groups = _by_id(plan, SG)
    rules = set()
    for r in plan.of_type(RULE):
        i = r.inputs
        src = groups.get(i.get("referencedSecurityGroupId", ""), i.get("cidrIpv4"))
        rules.add((groups[i["securityGroupId"]], int(i["fromPort"]), int(i["toPort"]), src))
    for g in plan.of_type(SG):
        for i in g.inputs.get("ingress", []):
            for cidr in i.get("cidrBlocks", []):
                rules.add((g.name, int(i["fromPort"]), int(i["toPort"]), cidr))
    return rules


EXPECTED_INGRESS = {
    "production": {
        ("plone-production-ssh", 22, 22, "203.0.113.0/24"),
        # behind the load balancer, the frontends' internet ports take only the balancer's traffic
        ("frontend-sg", 80, 80, "frontend-lb-sg"), ("frontend-sg", 443, 443, "frontend-lb-sg"),
        ("frontend-lb-sg", 80, 80, WORLD),
        ("plone-sg", 8081, 8098, "frontend-sg"), ("plone-sg", 8099, 8099, "frontend-sg"),
        ("zeoserver-sg", 8100, 8100, "plone-sg"), ("zeoserver-sg", 8100, 8100, "maintenance-sg"),
    },
    "staging": {
        ("plone-staging-ssh", 22, 22, "203.0.113.0/24"),
        ("frontend-sg", 80, 80, WORLD), ("frontend-sg", 443, 443, WORLD),
        ("plone-sg", 8081, 8098, "frontend-sg"), ("plone-sg", 8099, 8099, "frontend-sg"),
        ("zeoserver-sg", 8100, 8100, "plone-sg"), ("zeoserver-sg", 8100, 8100, "maintenance-sg"),
    },
    "relstorage": {
        ("plone-relstorage-ssh", 22, 22, "198.51.100.0/24"),
        ("frontend-sg", 80, 80, "frontend-lb-sg"), ("frontend-sg", 443, 443, "frontend-lb-sg"),
        ("frontend-lb-sg", 80, 80, WORLD),
        ("plone-sg", 8081, 8098, "frontend-sg"), ("plone-sg", 8099, 8099, "frontend-sg"),
        ("memcached-sg", 11211, 11211, "plone-sg"),
        ("zodb-db-sg", 5432, 5432, "plone-sg"),
    },
}


@pytest.mark.parametrize("stack", sorted(EXPECTED_INGRESS))
def test_every_ingress_rule(plans: dict[str, Plan], stack: str) -> None:
    assert ingress(plans[stack]) == EXPECTED_INGRESS[stack]


@pytest.mark.parametrize("stack", sorted(EXPECTED_INGRESS))
def test_only_public_ports_are_open_to_the_world(plans: dict[str, Plan], stack: str) -> None:
    world = {(g, a) for g, a, _, src in ingress(plans[stack]) if src == WORLD}
    assert world <= {("frontend-sg", 80), ("frontend-sg", 443), ("frontend-lb-sg", 80), ("frontend-lb-sg", 443)}
    ssh = {src for g, a, _, src in ingress(plans[stack]) if a <= 22 <= _}
    assert ssh and WORLD not in ssh


EXPECTED_COUNTS = {
    "production": {"stackkit:index:Stack": 1, "stackkit:index:Layer": 4, "stackkit:index:Instance": 8,
                   "stackkit:index:App": 1, "aws:ec2/instance:Instance": 8, "aws:ebs/volume:Volume": 2,
                   "aws:ec2/volumeAttachment:VolumeAttachment": 2, "aws:ec2/eip:Eip": 2 + 1,   # frontends, NAT
                   "aws:ec2/natGateway:NatGateway": 1,
                   "aws:lb/loadBalancer:LoadBalancer": 1, "aws:lb/targetGroupAttachment:TargetGroupAttachment": 2,
                   "aws:ec2/subnet:Subnet": 4,
                   # setup, configure, shutdown and users per instance; a deploy per plone instance
                   "command:remote:Command": 8 * 4 + 5,
                   "command:remote:CopyToRemote": 8,       # each instance's library
                   "pulumi:index:Stash": 3 + 8,    # two batch barriers, members-ready, one pinned host key per instance
                   # auto healing: recover + reboot per instance; load-based plone: scale up + down
                   "aws:cloudwatch/metricAlarm:MetricAlarm": 8 * 2 + 2,
                   # time-based app4 (Mon-Fri 07-19): a start and a stop schedule in the stack's group
                   "aws:scheduler/scheduleGroup:ScheduleGroup": 1, "aws:scheduler/schedule:Schedule": 2,
                   # the scaling function and the wake function (app4 and app5: a wake and a settle each)
                   "aws:lambda/function:Function": 2, "aws:lambda/permission:Permission": 2,
                   "aws:lambda/invocation:Invocation": 2 * 2,
                   "aws:iam/rolePolicy:RolePolicy": 3, "aws:cloudwatch/logGroup:LogGroup": 2},
    "staging": {"stackkit:index:Stack": 1, "stackkit:index:Layer": 4, "stackkit:index:Instance": 1,
                "aws:ec2/instance:Instance": 1, "aws:ebs/volume:Volume": 2, "aws:ec2/eip:Eip": 1,
                "aws:ec2/natGateway:NatGateway": 0,
                "command:remote:Command": 5, "command:remote:CopyToRemote": 1, "pulumi:index:Stash": 1 + 1,
                "aws:cloudwatch/metricAlarm:MetricAlarm": 2},
    "relstorage": {"stackkit:index:Database": 1, "aws:rds/instance:Instance": 1, "aws:ec2/instance:Instance": 5,
                   "aws:ebs/volume:Volume": 0, "command:remote:Command": 5 * 4 + 2, "command:remote:CopyToRemote": 5,
                   "pulumi:index:Stash": 2 + 5, "aws:cloudwatch/metricAlarm:MetricAlarm": 5 * 2},  # a batch barrier
}


@pytest.mark.parametrize("stack", sorted(EXPECTED_COUNTS))
def test_resources_by_type(plans: dict[str, Plan], stack: str) -> None:
    counts = Counter(r.type for r in plans[stack].resources)
    assert {t: counts.get(t, 0) for t in EXPECTED_COUNTS[stack]} == EXPECTED_COUNTS[stack]


def _parent(plan: Plan, r: Resource) -> Resource | None:
    return plan.by_urn().get(r.parent)


def test_children_are_parented_and_named_from_their_component(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    for r in plan.resources:
        parent = _parent(plan, r)
        if r.type == "stackkit:index:Stack":
            assert parent is None
            continue
        assert parent is not None, r.urn
        if parent.type == "stackkit:index:Instance":
            assert r.name == parent.name or r.name.startswith(parent.name + "-"), r.name
        if parent.type == "stackkit:index:Layer":
            assert r.name.startswith(parent.name + "-"), r.name
    kinds = {(r.type, _parent(plan, r).type) for r in plan.resources if _parent(plan, r) is not None}
    assert ("command:remote:Command", "stackkit:index:Instance") in kinds
    assert ("aws:ec2/instance:Instance", "stackkit:index:Instance") in kinds
    assert ("aws:ec2/securityGroup:SecurityGroup", "stackkit:index:Layer") in kinds
    assert ("aws:lb/loadBalancer:LoadBalancer", "stackkit:index:Layer") in kinds
    assert ("stackkit:index:Layer", "stackkit:index:Stack") in kinds
    rel = plans["relstorage"]
    assert ("aws:rds/instance:Instance", "stackkit:index:Database") in {
        (r.type, _parent(rel, r).type) for r in rel.resources if _parent(rel, r) is not None}


@pytest.mark.parametrize("stack", sorted(EXPECTED_COUNTS))
def test_instances_require_imdsv2_and_encrypt_everything(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    for r in plan.of_type("aws:ec2/instance:Instance"):
        assert r.inputs["metadataOptions"]["httpTokens"] == "required"
        assert r.inputs["rootBlockDevice"]["encrypted"] is True
        assert r.inputs["ami"].startswith("ami-")
        assert "ami" in r.options["ignoreChanges"]
    for r in plan.of_type("aws:ebs/volume:Volume"):
        assert r.inputs["encrypted"] is True
    for r in plan.of_type("aws:rds/instance:Instance"):
        assert r.inputs["storageEncrypted"] is True
        assert r.inputs["publiclyAccessible"] is False
        assert r.inputs["deletionProtection"] is True
        assert r.inputs["skipFinalSnapshot"] is False
        assert r.inputs["password"] == "[secret]"


@pytest.mark.parametrize("stack", sorted(EXPECTED_COUNTS))
def test_data_is_protected(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    data = [r for r in plan.resources if r.type in ("aws:ebs/volume:Volume", "aws:rds/instance:Instance")]
    nat = {n.inputs["allocationId"] for n in plan.of_type("aws:ec2/natGateway:NatGateway")}
    data += [r for r in plan.of_type("aws:ec2/eip:Eip")     # registered Elastic IPs (the NAT gateways' are not data)
             if _parent(plan, r).type == "stackkit:index:Stack" and r.state["allocationId"] not in nat]
    assert all(r.options["protect"] for r in data)
    unprotected = {r.type for r in plan.resources if not r.options["protect"]}
    assert not unprotected & {"aws:ebs/volume:Volume", "aws:rds/instance:Instance"}
    by_instance: dict[str, list[Resource]] = {}
    for r in plan.of_type("aws:ec2/volumeAttachment:VolumeAttachment"):
        assert r.inputs["stopInstanceBeforeDetaching"] is True
        assert r.options["deleteBeforeReplace"] is True
        by_instance.setdefault(r.parent, []).append(r)
    # an instance's attachments move one after the other (docs/lifecycle.md, "replacing an instance"): each waits on the
    # one before, so no second detach stops the instance while the first chain's shutdown runs
    for attachments in by_instance.values():
        for before, after in zip(attachments, attachments[1:], strict=False):
            assert before.urn in after.options["dependsOn"], (after.urn, after.options["dependsOn"])
    if stack == "production":
        assert any(len(a) >= 2 for a in by_instance.values()), "production's ZEO server holds two volumes"


def test_amis_and_azs_are_looked_up_per_region(stack_files: dict) -> None:
    sf = stack_files["production"]
    a = evaluate(sf)
    b = evaluate(sf, overrides={"aws:region": "ap-southeast-2"})
    amis = lambda p: {r.inputs["ami"] for r in p.of_type("aws:ec2/instance:Instance")}  # noqa: E731
    azs = lambda p: {r.inputs["availabilityZone"] for r in p.of_type("aws:ec2/subnet:Subnet")}  # noqa: E731
    assert amis(a).isdisjoint(amis(b))
    assert azs(a) == {"eu-west-1a", "eu-west-1b"} and azs(b) == {"ap-southeast-2a", "ap-southeast-2b"}


@pytest.mark.parametrize("stack", sorted(EXPECTED_COUNTS))
def test_no_secret_in_plaintext(plans: dict[str, Plan], stack_files: dict, stack: str) -> None:
    plan, sf = plans[stack], stack_files[stack]
    assert sf.placeholders, "the stack file has secure values"
    text = json.dumps([r.to_json() for r in plan.resources])
    for path, value in sf.placeholders.items():
        assert value not in text, f"{path} leaks into the recorded inputs"
    # the commands that carry one have their stdin (and connection) secret, and their outputs too
    carrying = [r for r in plan.of_type("command:remote:Command")
                if any(v in json.dumps(r.secret_inputs) for v in sf.placeholders.values())]
    assert carrying
    for r in plan.of_type("command:remote:Command"):
        assert r.inputs["connection"] == "[secret]"
        assert set(r.options["additionalSecretOutputs"]) >= {"stdout", "stderr"}
        if any(v in r.secret_inputs.get("stdin", "") for v in sf.placeholders.values()):
            assert r.inputs["stdin"] == "[secret]"


# --- auto healing (docs/concepts.md): two CloudWatch alarms per instance, with AWS's documented values ----------------

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
# (alarm suffix, metric, statistic, evaluation periods, EC2 action, what the description says)
CHECKS = [
    ("recover", "StatusCheckFailed_System", "Maximum", 2, "recover",
     "recovers it on new hardware when EC2's system status check fails"),
    ("reboot", "StatusCheckFailed_Instance", "Minimum", 3, "reboot", "reboots it when its instance status check fails"),
]
TOPIC = "arn:aws:sns:eu-west-1:123456789012:ops-alerts"


def alarm_inputs(plan: Plan, stack: str, region: str, topic: str | None = None) -> dict[str, dict]:
    """The exact inputs every alarm must have: one recover and one reboot alarm per instance of `plan`."""
    out = {}
    for inst in plan.of_type("aws:ec2/instance:Instance"):
        tags = {k: v for k, v in inst.inputs["tags"].items() if k != "Name"}
        for suffix, metric, statistic, periods, action, what in CHECKS:
            name = f"{stack}-{inst.name}-{suffix}"
            out[f"{inst.name}-{suffix}"] = {
                "name": name, "alarmDescription": f"stackkit, instance {inst.name}: {what} for {periods} minutes",
                "namespace": "AWS/EC2", "metricName": metric, "dimensions": {"InstanceId": inst.id},
                "statistic": statistic, "period": 60, "evaluationPeriods": periods, "threshold": 1,
                "comparisonOperator": "GreaterThanOrEqualToThreshold",
                "alarmActions": [f"arn:aws:automate:{region}:ec2:{action}", *([topic] if topic else [])],
                "okActions": [topic] if topic else [], "tags": {**tags, "Name": name}}
    return out


def healing_alarms(plan: Plan) -> list[Resource]:
    """The auto-healing alarms: children of an Instance (a load-based layer's alarms are the Scaling component's)."""
    return [r for r in plan.of_type(ALARM) if _parent(plan, r).type == "stackkit:index:Instance"]


def test_every_production_instance_has_the_two_alarms_with_exact_inputs(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    healing = healing_alarms(plan)
    assert {r.name: r.inputs for r in healing} == alarm_inputs(plan, "plone-production", "eu-west-1")
    # the others are the load-based layer's (tests/test_scaling_plan.py)
    assert {r.name for r in plan.of_type(ALARM)} - {r.name for r in healing} == {
        "plone-production-plone-scale-up", "plone-production-plone-scale-down"}


def test_alarms_notify_the_stack_topic(stack_files: dict) -> None:
    sf = stack_files["production"]
    stack = {**sf.config["stackkit:stack"], "notifications": {"topic_arn": TOPIC}}
    plan = evaluate(sf, overrides={"stackkit:stack": stack})
    assert {r.name: r.inputs for r in healing_alarms(plan)} == alarm_inputs(plan, "plone-production", "eu-west-1",
                                                                            TOPIC)


# (layers' auto_healing settings, instance types, the alarms expected)
HEALING = [
    ({"plone": False}, {}, {n for i in ("web1", "web2", "db1") for n in (f"{i}-recover", f"{i}-reboot")}),
    # an instance heals only if every one of its layers does: db1 carries zeoserver and maintenance
    ({"maintenance": False}, {}, {n for i in ("web1", "web2", "app1", "app2", "app3", "app4", "app5")
                                  for n in (f"{i}-recover", f"{i}-reboot")}),
    # instance store (m6id): EC2 cannot recover it; the reboot alarm stays
    ({"frontend": False, "plone": False}, {"db1": "m6id.large"}, {"db1-reboot"}),
]


@pytest.mark.parametrize(("layers", "types", "expected"), HEALING, ids=["plone-off", "one-of-two-layers-off",
                                                                        "instance-store"])
def test_which_instances_heal(stack_files: dict, layers: dict, types: dict, expected: set) -> None:
    sf = stack_files["production"]
    cfg_layers = {n: {**s, "auto_healing": layers.get(n, True)} for n, s in sf.config["stackkit:layers"].items()}
    cfg_instances = {n: {**s, **({"type": types[n]} if n in types else {})}
                     for n, s in sf.config["stackkit:instances"].items()}
    plan = evaluate(sf, overrides={"stackkit:layers": cfg_layers, "stackkit:instances": cfg_instances})
    assert {r.name for r in healing_alarms(plan)} == expected


def test_a_stack_without_apps_plans_and_its_plone_instances_make_no_site(stack_files: dict) -> None:
    """The plone layer's configure with no app deployed on the instance (the app removed): it still renders (a
    template error once stopped removing the app) and calls no site creation."""
    before = rendered(evaluate(stack_files["production"]))["plone/configure.sh"]
    after = rendered(evaluate(stack_files["production"].with_change({"-apps.site": None})))["plone/configure.sh"]
    assert "| /usr/local/sbin/stackkit-plone-site" in before
    assert "| /usr/local/sbin/stackkit-plone-site" not in after and "sk_install /usr/local/sbin/stackkit-plone-site" in after
