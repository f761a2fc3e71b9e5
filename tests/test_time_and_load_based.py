"""Time- and load-based instances without machines: the schedule's week (pure), the exact AWS resources the production
plan registers for them, that none of it is an input of a lifecycle command, and the local players' decisions over a
recorded state (the machines' part is tests/e2e/test_time_and_load_based.py)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from stackkit.config.schedule import Schedule
from stackkit.config.stackfile import StackFile
from stackkit.local.aws.cloud import Cloud
from stackkit.local.playback import last_firing, play_scale, schedule_actions
from stackkit.plan.evaluate import Plan, Resource, evaluate

# --- the week ------------------------------------------------------------------------------------------------------

# (schedule, [(action, hour, days)] as the scheduler's cron expressions fire them)
WEEKS = [
    ({"mon": "08-18"}, [("start", 8, "MON"), ("stop", 18, "MON")]),
    ({"mon": "08-18", "tue": "08-18", "fri": "08-18"}, [("start", 8, "MON,TUE,FRI"), ("stop", 18, "MON,TUE,FRI")]),
    # across midnight and across days: one run from Monday 18:00 to Wednesday 06:00
    ({"mon": "18-24", "tue": "00-24", "wed": "00-06"}, [("stop", 6, "WED"), ("start", 18, "MON")]),
    # across the week's end: Sunday 22:00 to Monday 02:00
    ({"sun": "22-24", "mon": "00-02"}, [("stop", 2, "MON"), ("start", 22, "SUN")]),
    ({"sat": ["10-12", "14-16"]}, [("start", 10, "SAT"), ("stop", 12, "SAT"), ("start", 14, "SAT"),
                                   ("stop", 16, "SAT")]),
    # adjacent ranges join: no stop at 12 and start at 12
    ({"sat": ["10-12", "12-16"]}, [("start", 10, "SAT"), ("stop", 16, "SAT")]),
]


@pytest.mark.parametrize(("days", "expected"), WEEKS, ids=[json.dumps(w[0]) for w in WEEKS])
def test_transitions_are_the_crons_the_scheduler_fires(days: dict, expected: list) -> None:
    got = [(t.action, t.hour, t.cron.split()[4]) for t in Schedule.model_validate(days).transitions()]
    assert got == expected
    for t in Schedule.model_validate(days).transitions():
        assert t.cron == f"cron(0 {t.hour} ? * {t.cron.split()[4]} *)"


# (schedule, moment, on?)
MOMENTS = [
    ({"timezone": "Europe/Amsterdam", "mon": "08-18"}, "2026-11-30T08:00:00+01:00", True),
    ({"timezone": "Europe/Amsterdam", "mon": "08-18"}, "2026-11-30T07:59:59+01:00", False),
    ({"timezone": "Europe/Amsterdam", "mon": "08-18"}, "2026-11-30T17:59:00+01:00", True),
    ({"timezone": "Europe/Amsterdam", "mon": "08-18"}, "2026-11-30T18:00:00+01:00", False),
    # the same moment in UTC: 07:30Z is 08:30 in Amsterdam in winter
    ({"timezone": "Europe/Amsterdam", "mon": "08-18"}, "2026-11-30T07:30:00+00:00", True),
    # summer time: 06:30Z is 08:30 in Amsterdam
    ({"timezone": "Europe/Amsterdam", "mon": "08-18"}, "2026-06-01T06:30:00+00:00", True),
    ({"timezone": "UTC", "sun": "22-24", "mon": "00-02"}, "2026-11-30T01:00:00+00:00", True),
]


@pytest.mark.parametrize(("days", "moment", "on"), MOMENTS)
def test_is_on(days: dict, moment: str, on: bool) -> None:
    assert Schedule.model_validate(days).is_on(datetime.fromisoformat(moment)) is on


# --- the plan ------------------------------------------------------------------------------------------------------

STACK = "plone-production"
REGION = "eu-west-1"


def _by(plan: Plan, type_: str) -> dict[str, Resource]:
    return {r.name: r for r in plan.of_type(type_)}


def _instance(plan: Plan, name: str) -> Resource:
    return _by(plan, "aws:ec2/instance:Instance")[name]


def _marked(tag: str) -> dict[str, Any]:
    """An instance of this stack carrying `tag`: how the roles' policies name the instances they may start and stop."""
    return {"StringEquals": {"aws:ResourceTag/stackkit:stack": STACK}, "Null": {f"aws:ResourceTag/{tag}": "false"}}


def test_the_time_based_instance_gets_exactly_its_two_schedules(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    app4 = _instance(plan, "app4").id
    got = {n: r.inputs for n, r in _by(plan, "aws:scheduler/schedule:Schedule").items()}
    days = "mon 07-19, tue 07-19, wed 07-19, thu 07-19, fri 07-19"

    def schedule(action: str, hour: int, target: str) -> dict[str, Any]:
        return {"name": f"app4-{action}-{hour:02d}", "groupName": STACK, "state": "ENABLED",
                "description": f"stackkit: {action} app4 (Europe/Amsterdam: {days})",
                "scheduleExpression": f"cron(0 {hour} ? * MON,TUE,WED,THU,FRI *)",
                "scheduleExpressionTimezone": "Europe/Amsterdam", "flexibleTimeWindow": {"mode": "OFF"},
                "target": {"arn": f"arn:aws:scheduler:::aws-sdk:ec2:{target}",
                           "roleArn": f"arn:aws:iam::123456789012:role/{STACK}-scheduler",
                           "input": json.dumps({"InstanceIds": [app4]}),
                           "retryPolicy": {"maximumRetryAttempts": 5, "maximumEventAgeInSeconds": 3600}}}
    assert got == {f"{STACK}-app4-start-07": schedule("start", 7, "startInstances"),
                   f"{STACK}-app4-stop-19": schedule("stop", 19, "stopInstances")}
    group = _by(plan, "aws:scheduler/scheduleGroup:ScheduleGroup")
    assert [g.inputs["name"] for g in group.values()] == [STACK]


def test_the_scheduler_role_may_start_and_stop_only_the_time_based_instance(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    policy = json.loads(_by(plan, "aws:iam/rolePolicy:RolePolicy")[f"{STACK}-scheduler"].inputs["policy"])
    assert policy["Statement"] == [{"Sid": "StartStopTheStacksTimeBasedInstances", "Effect": "Allow",
                                    "Action": ["ec2:StartInstances", "ec2:StopInstances"],
                                    "Resource": f"arn:aws:ec2:{REGION}:123456789012:instance/*",
                                    "Condition": _marked("stackkit:time_based")}]
    assert _instance(plan, "app4").inputs["tags"]["stackkit:time_based"] == "true"
    trust = json.loads(_by(plan, "aws:iam/role:Role")[f"{STACK}-scheduler"].inputs["assumeRolePolicy"])
    assert trust["Statement"] == [{"Effect": "Allow", "Principal": {"Service": "scheduler.amazonaws.com"},
                                   "Action": "sts:AssumeRole",
                                   "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]


def test_the_load_based_layer_gets_two_alarms_on_its_average_cpu(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    alarms = _by(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")
    plone = [_instance(plan, f"app{i}").id for i in range(1, 6)]
    function = f"arn:aws:lambda:{REGION}:123456789012:function:{STACK}-scaler"
    for direction, cpu, minutes, operator, word, verb in (("up", 80, 5, "GreaterThanThreshold", "above", "starts"),
                                                          ("down", 30, 10, "LessThanThreshold", "below", "stops")):
        name = f"{STACK}-plone-scale-{direction}"
        inputs = dict(alarms[name].inputs)          # a copy: the plan is shared by the session
        queries = inputs.pop("metricQueries")
        assert inputs == {
            "name": name, "threshold": cpu, "comparisonOperator": operator, "evaluationPeriods": minutes,
            "datapointsToAlarm": minutes, "treatMissingData": "missing", "alarmActions": [function],
            "alarmDescription": f"stackkit, layer plone: average CPU {word} {cpu}% for {minutes} minutes {verb} 1 "
                                "load-based instance(s)",
            "tags": {"stackkit:stack": STACK, "environment": "production", "Name": name}}
        assert queries[-1] == {"id": "layer", "expression": "AVG(METRICS())", "returnData": True,
                               "label": "the layer's average CPUUtilization"}
        # every instance of the layer, the 24/7 and time-based ones too: the layer's average
        assert [q["metric"]["dimensions"]["InstanceId"] for q in queries[:-1]] == plone
        assert {(q["metric"]["namespace"], q["metric"]["metricName"], q["metric"]["stat"], q["metric"]["period"],
                 q["returnData"]) for q in queries[:-1]} == {("AWS/EC2", "CPUUtilization", "Average", 60, False)}


def test_the_function_its_permissions_and_its_role(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    fn = _by(plan, "aws:lambda/function:Function")[f"{STACK}-scaler"].inputs
    assert {k: fn[k] for k in ("name", "runtime", "handler", "timeout", "memorySize",
                               "reservedConcurrentExecutions")} == {
        "name": f"{STACK}-scaler", "runtime": "python3.12", "handler": "scaling.aws.handler", "timeout": 30,
        "memorySize": 128, "reservedConcurrentExecutions": 1}
    assert json.loads(fn["environment"]["variables"]["STACKKIT_SCALING"]) == {"stack": STACK, "alarms": {
        f"{STACK}-plone-scale-up": {"layer": "plone", "direction": "up", "instances": 1, "ignore_minutes": 5},
        f"{STACK}-plone-scale-down": {"layer": "plone", "direction": "down", "instances": 1, "ignore_minutes": 5}}}
    perms = {n: r.inputs for n, r in _by(plan, "aws:lambda/permission:Permission").items()}
    assert perms == {f"{STACK}-plone-scale-{d}": {
        "action": "lambda:InvokeFunction", "function": f"{STACK}-scaler",
        "principal": "lambda.alarms.cloudwatch.amazonaws.com",
        "sourceArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{STACK}-plone-scale-{d}"} for d in ("up", "down")}
    policy = json.loads(_by(plan, "aws:iam/rolePolicy:RolePolicy")[f"{STACK}-scaler"].inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["StartAndStopTheLoadBasedInstances"]["Resource"] == f"arn:aws:ec2:{REGION}:123456789012:instance/*"
    assert by_sid["StartAndStopTheLoadBasedInstances"]["Condition"] == _marked("stackkit:load_based")
    assert by_sid["MarkWhenScaled"]["Condition"] == {**_marked("stackkit:load_based"),
                                                     "ForAllValues:StringEquals": {"aws:TagKeys": ["stackkit:scaled_at"]}}
    assert by_sid["ResetItsAlarms"]["Resource"] == f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{STACK}-*-scale-*"
    assert by_sid["WriteItsLog"]["Resource"] == (f"arn:aws:logs:{REGION}:123456789012:log-group:"
                                                 f"/aws/lambda/{STACK}-scaler:*")
    assert by_sid["FindTheLayersInstances"] == {"Sid": "FindTheLayersInstances", "Effect": "Allow",
                                                "Action": "ec2:DescribeInstances", "Resource": "*"}
    assert len(by_sid) == 5


def test_instances_carry_the_tags_and_monitoring_the_function_and_alarms_need(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    for r in plan.of_type("aws:ec2/instance:Instance"):
        assert r.inputs["tags"].get("stackkit:load_based") == ("plone" if r.name == "app5" else None), r.name
        assert r.inputs["tags"]["stackkit:instance"] == r.name
        assert r.inputs.get("monitoring") is (True if r.name.startswith("app") else None), r.name


# --- none of it runs a script --------------------------------------------------------------------------------------



def test_a_layer_whose_last_load_based_instance_goes_keeps_no_alarm(stack_files: dict[str, StackFile]) -> None:
    sf = stack_files["production"]
    after = evaluate(sf.with_change({"-instances.app5": None}))
    assert [f.name for f in after.of_type("aws:lambda/function:Function")] == [f"{STACK}-wake"]   # app4's
    assert not [r for r in after.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "scale" in r.name]


# --- wake and settle: a stopped time- or load-based instance during an up ------------------------------------------

INVOCATION = "aws:lambda/invocation:Invocation"


def test_each_time_and_load_based_instance_is_woken_before_its_scripts_and_settled_after(plans: dict[str, Plan]) -> None:
    plan = plans["production"]
    inv = _by(plan, INVOCATION)
    assert set(inv) == {"app4-wake", "app4-settle", "app5-wake", "app5-settle"}
    app4, app5 = _instance(plan, "app4").id, _instance(plan, "app5").id
    app4_hours = sorted(d * 24 + h for d in range(5) for h in range(7, 19))
    assert {n: json.loads(r.inputs["input"]) for n, r in inv.items()} == {
        "app4-wake": {"wake": app4}, "app5-wake": {"wake": app5},
        "app4-settle": {"settle": app4, "timezone": "Europe/Amsterdam", "hours": app4_hours},
        "app5-settle": {"settle": app5, "timezone": None, "hours": None}}
    assert {r.inputs["functionName"] for r in inv.values()} == {f"{STACK}-wake"}
    commands_of = {i: [r for r in plan.of_type("command:remote:Command") if r.name.startswith(f"{i}-")]
                   for i in ("app4", "app5")}
    for i in ("app4", "app5"):
        wake, settle = inv[f"{i}-wake"], inv[f"{i}-settle"]
        for cmd in commands_of[i]:
            assert settle.urn not in cmd.dependencies
            assert cmd.urn in settle.dependencies, f"{i}-settle waits for {cmd.name}"
        # and for every deploy of the stack (the members-ready barrier): capacity until the last rolling batch
        assert plan.named("plone-production-members-ready").urn in settle.dependencies
        for event in ("setup", "configure"):
            assert wake.urn in _by(plan, "command:remote:Command")[f"{i}-{event}"].dependencies
    fn = _by(plan, "aws:lambda/function:Function")[f"{STACK}-wake"].inputs
    assert (fn["handler"], fn["timeout"], fn.get("reservedConcurrentExecutions")) == (
        "scaling.aws.lifecycle_handler", 300, None), "no reserved concurrency: parallel wakes are not throttled"
    policy = json.loads(_by(plan, "aws:iam/rolePolicy:RolePolicy")[f"{STACK}-wake"].inputs["policy"])
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    assert by_sid["StartAndStopTheTimeBasedInstances"]["Condition"] == _marked("stackkit:time_based")
    assert by_sid["StartAndStopTheLoadBasedInstances"]["Condition"] == _marked("stackkit:load_based")
    assert by_sid["MarkWokenLoadBased"]["Condition"] == {**_marked("stackkit:load_based"),
                                                         "ForAllValues:StringEquals": {"aws:TagKeys": ["stackkit:woken"]}}


# --- the local players over a recorded state -----------------------------------------------------------------------

def _recorded(plan: Plan, folder: Path) -> Cloud:
    """The local cloud's records of a plan's resources, as the stand-in keeps them (a machine named by its id)."""
    cloud = Cloud(folder / "cloud")
    for r in plan.resources:
        if r.custom and r.type.startswith("aws:"):
            cloud.put(r.id, r.type, {**r.secret_inputs, "id": r.id})
    return cloud


def _id(plan: Plan, name: str) -> str:
    return plan.named(name, "aws:ec2/instance:Instance").id


# (moment, what the schedules want for app4)
PLAYED = [
    ("2026-11-30T09:00:00+01:00", "start"),    # Monday, after 07:00
    ("2026-11-30T06:59:00+01:00", "stop"),     # Monday before 07:00: Friday 19:00 fired last
    ("2026-11-28T12:00:00+01:00", "stop"),     # Saturday
    ("2026-12-04T19:00:00+01:00", "stop"),     # Friday 19:00 exactly
    ("2026-11-30T06:30:00+00:00", "start"),    # 07:30 in Amsterdam
]


@pytest.mark.parametrize(("moment", "action"), PLAYED)
def test_the_schedule_player_applies_the_last_schedule_that_fired(plans: dict[str, Plan], moment: str,
                                                                  action: str, tmp_path: Path) -> None:
    got = schedule_actions(_recorded(plans["production"], tmp_path), datetime.fromisoformat(moment))
    assert {i: f.action for i, f in got.items()} == {_id(plans["production"], "app4"): action}


def test_last_firing_refuses_an_expression_stackkit_does_not_write() -> None:
    assert last_firing("cron(0 7 ? * MON *)", "UTC", datetime.fromisoformat("2026-12-01T00:00:00+00:00")) == \
        datetime.fromisoformat("2026-11-30T07:00:00+00:00")
    from stackkit.errors import LocalError
    with pytest.raises(LocalError, match="not a schedule expression"):
        last_firing("rate(5 minutes)", "UTC", datetime.fromisoformat("2026-12-01T00:00:00+00:00"))


class FakeFleet:
    """The fleet entries the players read and write: pid (running or 0), started, scaled_at."""

    def __init__(self, entries: dict[str, dict]) -> None:
        self.entries = entries
        self.calls: list[tuple[str, str]] = []

    def state(self) -> dict[str, dict]:
        return self.entries

    def start(self, name: str, timeout: float = 90) -> None:
        self.calls.append(("start", name))

    def stop(self, name: str, timeout: float = 30) -> None:
        self.calls.append(("stop", name))

    def tag(self, name: str, **values: object) -> None:
        self.entries[name] = {**self.entries[name], **values}


def test_the_scale_player_runs_the_functions_decision_on_the_load_based_machine(plans: dict[str, Plan],
                                                                                tmp_path: Path) -> None:
    import os
    plan = plans["production"]
    cloud = _recorded(plan, tmp_path)
    me = os.getpid()          # a live pid: "running"
    ids = {i: _id(plan, f"app{i}") for i in range(1, 6)}
    fleet = FakeFleet({ids[i]: {"pid": me, "started": 1000.0 + i} for i in range(1, 6)})
    app5 = ids[5]
    down = play_scale(cloud, "plone", "down", now=5000.0, log=lambda _: None, fleet=fleet)
    assert down.stop == (app5,) and fleet.calls == [("stop", app5)], "only the load-based one, never app1-4"
    assert fleet.entries[app5]["scaled_at"] == 5000.0
    fleet.entries[app5]["pid"] = 0
    ignored = play_scale(cloud, "plone", "up", now=5000.0 + 299, log=lambda _: None, fleet=fleet)
    assert ignored.start == () and "ignor" in ignored.reason
    up = play_scale(cloud, "plone", "up", now=5000.0 + 301, log=lambda _: None, fleet=fleet)
    assert up.start == (app5,) and fleet.calls[-1] == ("start", app5)
    from stackkit.errors import LocalError
    with pytest.raises(LocalError, match="does not scale on load"):
        play_scale(cloud, "frontend", "up", log=lambda _: None, fleet=fleet)
