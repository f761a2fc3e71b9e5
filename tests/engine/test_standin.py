"""The local cloud's stand-in for pulumi-aws, called as the engine calls it (no engine, no machines): replacement from
AWS's facts (stackkit.aws.replacement), auto-naming as pulumi-aws does it, AWS's input rules, secrets kept secret in
its outputs and out of its records; and every shipped stack passes those rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pulumi.provider.experimental.provider import CheckRequest, CreateRequest, DiffRequest, PropertyDiffKind

from stackkit.aws.replacement import REPLACES, UNKNOWN, replaces
from stackkit.local.aws import validation as rules
from stackkit.local.aws.kinds import TYPES
from stackkit.local.aws.provider import INPUTS_KEY, StandInAws
from stackkit.local.aws.values import REDACTED, Secret, map_from_py, map_to_py, reveal


def urn(type_: str, name: str = "r") -> str:
    return f"urn:pulumi:local::stackkit::stackkit:index:Stack${type_}::{name}"


@pytest.fixture
def aws(tmp_path: Path) -> StandInAws:
    return StandInAws(tmp_path)


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def diff(aws: StandInAws, type_: str, old: dict, new: dict) -> tuple[list[str], dict[str, PropertyDiffKind]]:
    state = {**old, INPUTS_KEY: sorted(old), "id": "x"}
    resp = run(aws.diff(DiffRequest(urn(type_), "x", map_from_py(state), map_from_py(new), [])))
    return sorted(resp.replaces), {k: v.kind for k, v in resp.detailed_diff.items()}


# (type, old inputs, new inputs, properties that replace, properties that update)
DIFFS = [
    ("aws:ec2/keyPair:KeyPair", {"keyName": "k-1", "publicKey": "ssh-ed25519 A"},
     {"keyName": "k-1", "publicKey": "ssh-ed25519 B"}, ["publicKey"], []),
    ("aws:ec2/instance:Instance", {"keyName": "k-1", "instanceType": "t3.small"},
     {"keyName": "k-2", "instanceType": "t3.small"}, ["keyName"], []),
    ("aws:ec2/instance:Instance", {"instanceType": "t3.small", "ami": "ami-1"},
     {"instanceType": "t3.large", "ami": "ami-1"}, [], ["instanceType"]),
    ("aws:ec2/instance:Instance", {"instanceType": "t3.small"}, {"instanceType": "t4g.small"}, ["instanceType"], []),
    ("aws:ec2/instance:Instance", {"rootBlockDevice": {"encrypted": True, "volumeSize": 16}},
     {"rootBlockDevice": {"encrypted": True, "volumeSize": 32}}, [], ["rootBlockDevice"]),
    ("aws:ec2/instance:Instance", {"rootBlockDevice": {"encrypted": False, "volumeSize": 16}},
     {"rootBlockDevice": {"encrypted": True, "volumeSize": 16}}, ["rootBlockDevice"], []),
    ("aws:ec2/instance:Instance", {"subnetId": "subnet-1"}, {"subnetId": UNKNOWN}, ["subnetId"], []),
    ("aws:ebs/volume:Volume", {"size": 10, "availabilityZone": "a"}, {"size": 20, "availabilityZone": "a"}, [], ["size"]),
    ("aws:ebs/volume:Volume", {"size": 10, "availabilityZone": "a"}, {"size": 10, "availabilityZone": "b"},
     ["availabilityZone"], []),
    ("aws:ec2/securityGroup:SecurityGroup", {"description": "a", "tags": {"x": "1"}},
     {"description": "a", "tags": {"x": "2"}}, [], ["tags"]),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"cidrIpv4": "10.0.0.0/8", "fromPort": 80},
     {"cidrIpv4": "10.0.0.0/8", "fromPort": 81}, [], ["fromPort"]),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"cidrIpv4": "10.0.0.0/8"},
     {"referencedSecurityGroupId": "sg-1"}, ["cidrIpv4", "referencedSecurityGroupId"], []),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"referencedSecurityGroupId": "sg-1"},
     {"referencedSecurityGroupId": UNKNOWN}, [], ["referencedSecurityGroupId"]),
    ("aws:rds/instance:Instance", {"identifier": "a", "engine": "postgres"}, {"identifier": "b", "engine": "postgres"},
     [], ["identifier"]),
    ("aws:rds/instance:Instance", {"engine": "postgres"}, {"engine": "mysql"}, ["engine"], []),
    ("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}, {"cidrBlock": "10.0.0.0/16"}, [], []),
    # an alarm's name is its id (ForceNew); everything else is PutMetricAlarm again
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a-recover", "evaluationPeriods": 2},
     {"name": "a-recover", "evaluationPeriods": 3}, [], ["evaluationPeriods"]),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a-recover", "okActions": []},
     {"name": "a-recover", "okActions": ["arn:aws:sns:eu-west-1:123456789012:ops"]}, [], ["okActions"]),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a-recover"}, {"name": "b-recover"}, ["name"], []),
]


@pytest.mark.parametrize(("type_", "old", "new", "replace", "update"), DIFFS,
                         ids=[f"{d[0].split(':')[-1]}-{i}" for i, d in enumerate(DIFFS)])
def test_diff_replaces_where_pulumi_aws_does(aws: StandInAws, type_: str, old: dict, new: dict,
                                            replace: list[str], update: list[str]) -> None:
    got_replace, kinds = diff(aws, type_, old, new)
    assert got_replace == replace
    assert sorted(k for k in kinds if k not in replace) == update


def test_numbers_from_the_wire_are_not_changes(aws: StandInAws) -> None:
    assert diff(aws, "aws:ebs/volume:Volume", {"size": 10}, {"size": 10.0}) == ([], {})


def test_autoname_kept_then_new_on_replacement(aws: StandInAws) -> None:
    kp = "aws:ec2/keyPair:KeyPair"
    first = map_to_py(run(aws.check(CheckRequest(urn(kp, "prod-key"), {}, map_from_py({"publicKey": "A"}),
                                                 b"seed-1"))).inputs)
    assert first["keyName"].startswith("prod-key-") and len(first["keyName"]) == len("prod-key-") + 7
    kept = map_to_py(run(aws.check(CheckRequest(urn(kp, "prod-key"), map_from_py(first),
                                                map_from_py({"publicKey": "B"}), b"seed-2"))).inputs)
    assert kept["keyName"] == first["keyName"]
    # the engine re-checks without olds when it replaces: a new name
    fresh = map_to_py(run(aws.check(CheckRequest(urn(kp, "prod-key"), {}, map_from_py({"publicKey": "B"}),
                                                 b"seed-2"))).inputs)
    assert fresh["keyName"] != first["keyName"]


def test_autoname_fits_the_aws_limit(aws: StandInAws) -> None:
    lb = "aws:lb/targetGroup:TargetGroup"
    resp = run(aws.check(CheckRequest(urn(lb, "a-very-long-layer-name-target-group"), {}, map_from_py({"port": 80}),
                                      b"s")))
    name = map_to_py(resp.inputs)["name"]
    assert len(name) <= 32 and not resp.failures


def test_unknown_type_is_refused_by_name(aws: StandInAws) -> None:
    resp = run(aws.check(CheckRequest(urn("aws:s3/bucket:Bucket"), {}, {}, b"s")))
    assert resp.failures and "aws:s3/bucket:Bucket" in resp.failures[0].reason


def test_preview_create_leaves_computed_outputs_unknown(aws: StandInAws) -> None:
    t = "aws:ec2/instance:Instance"
    resp = run(aws.create(CreateRequest(urn(t), map_from_py({"instanceType": "t3.small"}), 0, True)))
    out = map_to_py(resp.properties)
    assert out["privateIp"] is UNKNOWN and out["instanceType"] == "t3.small"


def test_create_records_aws_shaped_ids(aws: StandInAws, tmp_path: Path) -> None:
    t = "aws:ec2/vpc:Vpc"
    resp = run(aws.create(CreateRequest(urn(t), map_from_py({"cidrBlock": "10.0.0.0/16"}), 0, False)))
    assert resp.resource_id.startswith("vpc-")
    assert map_to_py(resp.properties)["arn"] == f"arn:aws:ec2:us-east-1:123456789012:vpc/{resp.resource_id}"
    assert (tmp_path / "records.json").exists()


# (type, inputs, the property the failure names, words of the reason)
REFUSED = [
    ("aws:ec2/securityGroup:SecurityGroup",
     {"description": "x", "egress": [{"description": "to the layer's instances"}]}, "egress[0].description",
     "a-z, A-Z, 0-9"),
    ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", {"description": "a\"b"}, "description", "a-z"),
    ("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/8"}, "cidrBlock", "/16 and a /28"),
    ("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"aws:owner": "me"}}, "tags.aws:owner", "reserved"),
    ("aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16", "tags": {"Name": "x" * 300}}, "tags.Name", "256"),
    ("aws:ebs/volume:Volume", {"type": "io1", "size": 100}, "iops", "needs iops"),
    ("aws:ebs/volume:Volume", {"type": "st1", "size": 100}, "size", "125 to 16384"),
    ("aws:ebs/volume:Volume", {"type": "gp3", "size": 10, "iops": -1}, "iops", "3000"),
    ("aws:lb/targetGroup:TargetGroup", {"name": "tg", "healthCheck": {"path": "health"}}, "healthCheck.path", "starts with /"),
    ("aws:lb/loadBalancer:LoadBalancer", {"name": "internal-web"}, "name", "internal-"),
    ("aws:rds/instance:Instance", {"password": "S3cr3t pw!"}, "password", "without space"),
    ("aws:rds/instance:Instance", {"password": "p@ssword-123"}, "password", "'@'"),
    ("aws:rds/instance:Instance", {"password": "short"}, "password", "8 to 128"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a" * 256}, "name", "1 to 255"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a", "period": 90}, "period", "multiple of 60"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a", "evaluationPeriods": 0}, "evaluationPeriods", "at least 1"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a", "statistic": "Max"}, "statistic", "Maximum"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a", "alarmActions": ["arn:aws:automate:eu-west-1:ec2:heal"]},
     "alarmActions[0]", "reboot or recover"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a", "okActions": ["ops@example.org"]}, "okActions[0]",
     "not an ARN"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm",
     {"name": "a", "alarmActions": [f"arn:aws:sns:eu-west-1:123456789012:t{i}" for i in range(6)]}, "alarmActions",
     "at most 5"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm",
     {"name": "a", "metricQueries": [{"id": f"m{i}", "metric": {"metricName": "CPUUtilization"}} for i in range(11)]
      + [{"id": "e", "expression": "AVG(METRICS())", "returnData": True}]}, "metricQueries", "at most 20 and 10"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm",
     {"name": "a", "metricQueries": [{"id": "m0", "metric": {"metricName": "CPUUtilization"}}]}, "metricQueries",
     "exactly one"),
    ("aws:cloudwatch/metricAlarm:MetricAlarm", {"name": "a", "evaluationPeriods": 2, "datapointsToAlarm": 3},
     "datapointsToAlarm", "at most evaluationPeriods"),
    ("aws:scheduler/schedule:Schedule", {"name": "app4 start"}, "name", "1 to 64"),
    ("aws:scheduler/schedule:Schedule", {"name": "a", "scheduleExpression": "cron(0 8 * * MON *)"},
     "scheduleExpression", "a ? in day-of-month"),
    ("aws:scheduler/schedule:Schedule", {"name": "a", "flexibleTimeWindow": {"mode": "ON"}}, "flexibleTimeWindow.mode",
     "OFF or FLEXIBLE"),
    ("aws:scheduler/schedule:Schedule", {"name": "a", "target": {"retryPolicy": {"maximumEventAgeInSeconds": 30}}},
     "target.retryPolicy.maximumEventAgeInSeconds", "60 to 86400"),
    ("aws:scheduler/scheduleGroup:ScheduleGroup", {"name": "a/b"}, "name", "1 to 64"),
    ("aws:lambda/function:Function", {"name": "a" * 65}, "name", "1 to 64"),
    ("aws:lambda/function:Function", {"name": "f", "timeout": 901}, "timeout", "1 to 900"),
    ("aws:lambda/function:Function", {"name": "f", "memorySize": 64}, "memorySize", "128 to 10240"),
    ("aws:lambda/function:Function", {"name": "f", "environment": {"variables": {"X": "y" * 4096}}},
     "environment.variables", "4 KB"),
    ("aws:cloudwatch/logGroup:LogGroup", {"name": "/aws/lambda/f", "retentionInDays": 31}, "retentionInDays", "30"),
    ("aws:cloudwatch/logGroup:LogGroup", {"name": "a b"}, "name", "1 to 512"),
    ("aws:iam/rolePolicy:RolePolicy", {"policy": "x" * 10241}, "policy", "10,240"),
]


@pytest.mark.parametrize(("type_", "props", "prop", "words"), REFUSED, ids=[r[2] for r in REFUSED])
def test_refuses_what_aws_refuses(type_: str, props: dict, prop: str, words: str) -> None:
    failures = rules.check(type_, props)
    assert [p for p, _ in failures] == [prop]
    assert words in failures[0][1]
    assert "S3cr3t" not in failures[0][1]      # a password is never echoed


def test_every_shipped_stack_passes_the_aws_rules(plans) -> None:  # type: ignore[no-untyped-def]
    """The program's inputs as the mock runtime records them: every AWS resource of every shipped stack is a type the
    stand-in knows and breaks no rule (descriptions, tags, names...)."""
    seen = 0
    for name, plan in plans.items():
        for r in plan.resources:
            if not r.custom or not r.type.startswith("aws:"):
                continue
            assert r.type in TYPES, f"{name}: {r.type} is missing from stackkit/local/aws/kinds.py"
            assert rules.check(r.type, r.secret_inputs) == [], f"{name}: {r.name}"
            seen += 1
    assert seen > 100


def test_every_listed_property_replaces_and_tags_never_do() -> None:
    assert set(REPLACES) == set(TYPES), "AWS's facts and the stand-in know the same types"
    for type_, props in REPLACES.items():
        for prop in props:
            assert replaces(type_, prop, "a", "b"), (type_, prop)
        assert not replaces(type_, "tags", {"a": "1"}, {"a": "2"}), type_


def test_a_secret_input_stays_secret_in_the_outputs_and_out_of_the_records(aws: StandInAws, tmp_path: Path) -> None:
    """The engine marks a secret (accept_secrets): the stand-in gives it back marked, and records it redacted."""
    password = "S3cr3t-pw-for-the-records"
    t = "aws:rds/instance:Instance"
    props = map_from_py({"engine": "postgres", "username": "zope", "password": Secret(password), "identifier": "db1"})
    resp = run(aws.create(CreateRequest(urn(t), props, 0, False)))
    out = map_to_py(resp.properties)
    assert out["password"] == Secret(password) and resp.properties["password"].is_secret
    assert reveal(out)["password"] == password
    text = (tmp_path / "records.json").read_text()
    assert password not in text and REDACTED in text
    assert (tmp_path / "records.json").stat().st_mode & 0o777 == 0o600


def test_region_must_be_an_aws_region(aws: StandInAws) -> None:
    bad = run(aws.check_config(CheckRequest("urn:pulumi:x::y::pulumi:providers:aws::default", {},
                                            map_from_py({"region": "xx-fake-9"}), b"")))
    good = run(aws.check_config(CheckRequest("urn:pulumi:x::y::pulumi:providers:aws::default", {},
                                             map_from_py({"region": "eu-west-1"}), b"")))
    assert bad.failures and "not an AWS region" in bad.failures[0].reason
    assert not good.failures
