"""Load-based scaling: the rules (`stackkit.scaling.decide`) as a table, and the Lambda handler against moto's EC2."""

from __future__ import annotations

import datetime
import importlib.resources
import json
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.ec2.models.instances import Instance

from stackkit.scaling import aws
from stackkit.scaling.decide import Member, decide, settle

NOW = 1_800_000_000.0


def m(name: str, state: str, launched: float = 0.0, scaled_at: float | None = None) -> Member:
    return Member(name=name, id=f"i-{name}", state=state, launched=launched, scaled_at=scaled_at)


# (id, direction, count, ignore_minutes, members, expected start ids, expected stop ids, reason fragment)
DECIDE_CASES = [
    ("up starts the next stopped in name order", "up", 1, 5,
     [m("lb3", "stopped"), m("lb1", "running"), m("lb4", "stopped"), m("lb2", "stopped")],
     ("i-lb2",), (), "starting 1 instance"),
    ("up count 2", "up", 2, 5,
     [m("lb3", "stopped"), m("lb4", "stopped"), m("lb2", "stopped")],
     ("i-lb2", "i-lb3"), (), "starting 2 instances of 2"),
    ("up count above what is stopped starts what there is", "up", 3, 5,
     [m("lb1", "running"), m("lb2", "stopped")],
     ("i-lb2",), (), "starting 1 instance of 3"),
    ("up none left", "up", 1, 5,
     [m("lb1", "running"), m("lb2", "running")],
     (), (), "no stopped load-based instance left to start"),
    ("up with no members", "up", 1, 5, [], (), (), "no stopped load-based instance left to start"),
    ("down stops the most recently launched", "down", 1, 5,
     [m("lb1", "running", 100), m("lb2", "running", 300), m("lb3", "running", 200), m("lb4", "stopped", 400)],
     (), ("i-lb2",), "stopping 1 instance"),
    ("down count 2", "down", 2, 5,
     [m("lb1", "running", 100), m("lb2", "running", 300), m("lb3", "running", 200)],
     (), ("i-lb2", "i-lb3"), "stopping 2 instances"),
    ("down ties go by name descending", "down", 1, 5,
     [m("lb1", "running", 100), m("lb3", "running", 100), m("lb2", "running", 100)],
     (), ("i-lb3",), "(lb3)"),
    ("down none running", "down", 1, 5,
     [m("lb1", "stopped", 100), m("lb2", "stopped", 300)],
     (), (), "no running load-based instance left to stop"),
    ("inside the ignore window: nothing", "up", 1, 5,
     [m("lb1", "running", scaled_at=NOW - 299), m("lb2", "stopped")],
     (), (), "last one was 299 s ago"),
    ("a stopped member's change counts for the window too", "down", 1, 5,
     [m("lb1", "running", 100), m("lb2", "stopped", scaled_at=NOW - 10)],
     (), (), "ignoring metrics for 5 min"),
    ("just outside the ignore window: acts", "up", 1, 5,
     [m("lb1", "running", scaled_at=NOW - 300), m("lb2", "stopped")],
     ("i-lb2",), (), "starting 1 instance"),
    ("ignore_minutes 0 never ignores", "down", 1, 0,
     [m("lb1", "running", 100, scaled_at=NOW)],
     (), ("i-lb1",), "stopping 1 instance"),
    ("a pending member: nothing", "up", 1, 5,
     [m("lb1", "pending"), m("lb2", "stopped")],
     (), (), "lb1 pending or stopping"),
    ("a stopping member: nothing", "down", 1, 5,
     [m("lb1", "stopping"), m("lb2", "running", 100)],
     (), (), "lb1 pending or stopping"),
    ("other states are ignored entirely, window included", "up", 1, 5,
     [m("lb0", "terminated", scaled_at=NOW - 1), m("lb1", "shutting-down"), m("lb2", "stopped")],
     ("i-lb2",), (), "starting 1 instance"),
    ("count 0 does nothing", "up", 0, 5, [m("lb1", "stopped")], (), (), "asks for 0 instances"),
    # a pulumi up woke lb2 to run its scripts: the down alarm must not stop it under the up
    ("a member woken by an up: nothing", "down", 1, 0,
     [m("lb1", "running", 100), Member("lb2", "i-lb2", "running", 300, None, woken_at=NOW - 120)],
     (), (), "a pulumi up is running scripts on lb2"),
    ("a woken tag older than an hour is a leftover", "down", 1, 0,
     [Member("lb2", "i-lb2", "running", 300, None, woken_at=NOW - 3600)],
     (), ("i-lb2",), "stopping 1 instance"),
]


@pytest.mark.parametrize(("direction", "count", "ignore", "members", "start", "stop", "reason"),
                         [c[1:] for c in DECIDE_CASES], ids=[c[0] for c in DECIDE_CASES])
def test_decide(direction: Any, count: int, ignore: int, members: list[Member], start: tuple[str, ...],
                stop: tuple[str, ...], reason: str) -> None:
    d = decide(direction, count, ignore, members, NOW)
    assert (d.start, d.stop) == (start, stop)
    assert reason in d.reason
    # only the given members, and only from the state the direction changes
    source = {"up": "stopped", "down": "running"}[direction]
    assert set(d.start) | set(d.stop) <= {x.id for x in members if x.state == source}


def test_decide_refuses_an_unknown_direction() -> None:
    with pytest.raises(ValueError, match="direction"):
        decide("sideways", 1, 5, [m("lb1", "stopped")], NOW)  # type: ignore[arg-type]


# --- the Lambda handler against moto's EC2 ---------------------------------------------------------------------

REGION = "eu-west-1"
STACK = "production"
IMAGE = "ami-12c6146b"  # moto does not check it
ALARMS = {
    "production-plone-up": {"layer": "plone", "direction": "up", "instances": 1, "ignore_minutes": 5},
    "production-plone-down": {"layer": "plone", "direction": "down", "instances": 1, "ignore_minutes": 5},
    "production-plone-up2": {"layer": "plone", "direction": "up", "instances": 2, "ignore_minutes": 5},
}
CONFIG = {"stack": STACK, "alarms": ALARMS}


def alarm_event(name: str, value: str = "ALARM", previous: str = "OK") -> dict[str, Any]:
    """What CloudWatch sends a Lambda alarm action."""
    stamp = "2027-01-15T08:00:00.000+0000"
    return {
        "source": "aws.cloudwatch",
        "alarmArn": f"arn:aws:cloudwatch:{REGION}:{DEFAULT_ACCOUNT_ID}:alarm:{name}",
        "accountId": DEFAULT_ACCOUNT_ID,
        "time": stamp,
        "region": REGION,
        "alarmData": {
            "alarmName": name,
            "state": {"value": value, "reason": "Threshold Crossed: 3 datapoints were greater than the threshold (80.0).",
                      "reasonData": "{\"version\":\"1.0\",\"statistic\":\"Average\",\"period\":60,\"threshold\":80.0}",
                      "timestamp": stamp},
            "previousState": {"value": previous, "reason": "Threshold Crossed", "timestamp": "2027-01-15T07:00:00.000+0000"},
            "configuration": {
                "description": "plone average CPU",
                "metrics": [{"id": "m1", "returnData": True, "metricStat": {
                    "metric": {"namespace": "AWS/EC2", "name": "CPUUtilization", "dimensions": {}},
                    "period": 60, "stat": "Average"}}],
            },
        },
    }


class Cloud:
    """moto's EC2 with stackkit-tagged instances, and a clock the handler and EC2's LaunchTime share."""

    def __init__(self) -> None:
        self.client = boto3.client("ec2", region_name=REGION)
        self.cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        for alarm in [*ALARMS, "production-plone-upp"]:  # the last one: not the scaler's
            self.cloudwatch.put_metric_alarm(AlarmName=alarm, Namespace="AWS/EC2", MetricName="CPUUtilization",
                                             Statistic="Average", Period=60, EvaluationPeriods=5, Threshold=80.0,
                                             ComparisonOperator="GreaterThanThreshold")
        self.now = NOW
        self.ids: dict[tuple[str, str], str] = {}  # (stack, name) -> id

    def launch(self, name: str, layer: str = "plone", load_based: str | None = "plone", stack: str = STACK,
               state: str = "stopped", launched: float | None = None) -> str:
        tags = {"stackkit:stack": stack, "stackkit:layers": layer, "stackkit:instance": name}
        if load_based is not None:
            tags["stackkit:load_based"] = load_based
        iid = self.client.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, InstanceType="t3.small", TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}])["Instances"][0]["InstanceId"]
        self.moto(iid).launch_time = _naive_utc(self.now if launched is None else launched)
        if state == "stopped":
            self.client.stop_instances(InstanceIds=[iid])
        self.ids[(stack, name)] = iid
        return iid

    def moto(self, iid: str) -> Instance:
        return ec2_backends[DEFAULT_ACCOUNT_ID][REGION].get_instance(iid)

    def state(self, name: str, stack: str = STACK) -> str:
        return self.moto(self.ids[(stack, name)])._state.name

    def states(self) -> dict[str, str]:
        return {f"{stack}/{name}": self.state(name, stack) for stack, name in self.ids}

    def tag(self, name: str, key: str = "stackkit:scaled_at", stack: str = STACK) -> str | None:
        r = self.client.describe_tags(Filters=[{"Name": "resource-id", "Values": [self.ids[(stack, name)]]},
                                                {"Name": "key", "Values": [key]}])["Tags"]
        return r[0]["Value"] if r else None

    def alarm_state(self, name: str) -> str | None:
        found = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return found[0]["StateValue"] if found else None

    def alarm(self, name: str, after: float = 0.0, value: str = "ALARM") -> dict[str, Any]:
        """CloudWatch puts the alarm in state `value` and invokes the function `after` seconds later."""
        self.now += after
        if self.alarm_state(name):
            self.cloudwatch.set_alarm_state(AlarmName=name, StateValue=value, StateReason="test")
        return aws.handler(alarm_event(name, value), None)


def _naive_utc(t: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(t, datetime.UTC).replace(tzinfo=None)


@pytest.fixture
def cloud(monkeypatch: pytest.MonkeyPatch) -> Any:
    for key in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv(aws.ENV, json.dumps(CONFIG))
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # loading moto's image catalogue costs a second a test
    aws.client.cache_clear()
    with mock_aws():
        c = Cloud()
        monkeypatch.setattr(aws, "clock", lambda: c.now)
        # EC2 sets LaunchTime when a stopped instance starts; moto keeps the creation time: teach it
        start = Instance.start

        def started(self: Instance) -> Any:
            self.launch_time = _naive_utc(c.now)
            return start(self)

        monkeypatch.setattr(Instance, "start", started)
        yield c
    aws.client.cache_clear()


def plone_layer(cloud: Cloud) -> None:
    """app1: 24/7 plone, running; lb1..lb3: plone's load-based instances, stopped."""
    cloud.launch("app1", load_based=None, state="running", launched=NOW - 86400)
    for n in ("lb3", "lb1", "lb2"):
        cloud.launch(n, launched=NOW - 3600)


def test_up_starts_the_next_stopped_load_based_instance_and_tags_it(cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    plone_layer(cloud)
    result = cloud.alarm("production-plone-up")
    assert result["started"] == [cloud.ids[(STACK, "lb1")]] and result["stopped"] == []
    assert cloud.states() == {"production/app1": "running", "production/lb1": "running",
                              "production/lb2": "stopped", "production/lb3": "stopped"}
    assert cloud.tag("lb1") == str(int(NOW))
    assert cloud.tag("lb2") is None and cloud.tag("app1") is None
    log = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(log) == 1
    assert log[0]["alarm"] == "production-plone-up" and log[0]["layer"] == "plone" and log[0]["direction"] == "up"
    assert log[0]["started"] == result["started"] and log[0]["reason"] == result["reason"]
    # set back to OK, so that CloudWatch invokes the function again if the load stays high
    assert log[0]["alarm_reset"] is True and cloud.alarm_state("production-plone-up") == "OK"


def test_a_second_up_inside_the_window_does_nothing_and_after_it_starts_the_next(cloud: Cloud) -> None:
    plone_layer(cloud)
    assert len(cloud.alarm("production-plone-up")["started"]) == 1
    second = cloud.alarm("production-plone-up", after=60)
    assert second["started"] == [] and second["stopped"] == []
    assert "60 s ago" in second["reason"]
    assert cloud.alarm_state("production-plone-up") == "OK"  # ignored, and yet ready to fire again
    assert cloud.state("lb2") == "stopped"
    third = cloud.alarm("production-plone-up", after=240)  # 300 s after the first change
    assert third["started"] == [cloud.ids[(STACK, "lb2")]]
    assert [cloud.state(n) for n in ("lb1", "lb2", "lb3")] == ["running", "running", "stopped"]
    assert cloud.tag("lb2") == str(int(NOW + 300))


def test_an_up_alarm_for_two_instances_starts_two(cloud: Cloud) -> None:
    plone_layer(cloud)
    result = cloud.alarm("production-plone-up2")
    assert sorted(result["started"]) == sorted(cloud.ids[(STACK, n)] for n in ("lb1", "lb2"))
    assert cloud.state("lb3") == "stopped"


def test_no_instance_left_to_start_does_nothing_without_error(cloud: Cloud) -> None:
    cloud.launch("app1", load_based=None, state="running")
    cloud.launch("lb1", state="running")
    before = cloud.states()
    result = cloud.alarm("production-plone-up", after=3600)
    assert result == {"started": [], "stopped": [], "reason": "no stopped load-based instance left to start"}
    assert cloud.states() == before


def test_down_stops_the_most_recently_started_load_based_instance(cloud: Cloud) -> None:
    plone_layer(cloud)
    cloud.alarm("production-plone-up")  # lb1 at NOW
    cloud.alarm("production-plone-up", after=600)  # lb2 at NOW + 600
    result = cloud.alarm("production-plone-down", after=600)
    assert result["stopped"] == [cloud.ids[(STACK, "lb2")]] and result["started"] == []
    assert [cloud.state(n) for n in ("app1", "lb1", "lb2", "lb3")] == ["running", "running", "stopped", "stopped"]
    assert cloud.tag("lb2") == str(int(NOW + 1200))
    again = cloud.alarm("production-plone-down", after=300)
    assert again["stopped"] == [cloud.ids[(STACK, "lb1")]]
    assert cloud.state("app1") == "running"


def test_down_never_stops_an_instance_that_is_not_load_based(cloud: Cloud) -> None:
    plone_layer(cloud)  # every load-based one stopped, the 24/7 app1 running
    cloud.launch("app2", load_based="", state="running", launched=NOW)  # an empty tag is not the layer
    cloud.launch("app3", load_based="Plone", state="running", launched=NOW)  # nor another spelling
    for _ in range(3):
        result = cloud.alarm("production-plone-down", after=3600)
        assert result["stopped"] == [] and result["reason"] == "no running load-based instance left to stop"
    assert [cloud.state(n) for n in ("app1", "app2", "app3")] == ["running"] * 3


def test_other_stacks_and_other_layers_are_never_touched(cloud: Cloud) -> None:
    plone_layer(cloud)
    # same name and tags but another stack; another layer's load-based instance in this stack
    cloud.launch("lb0", stack="staging", state="stopped")
    cloud.launch("lb9", stack="staging", state="running", launched=NOW + 10_000)
    cloud.launch("web0", layer="frontend", load_based="frontend", state="stopped")
    cloud.launch("web9", layer="frontend", load_based="frontend", state="running", launched=NOW + 10_000)
    up = cloud.alarm("production-plone-up")
    assert up["started"] == [cloud.ids[(STACK, "lb1")]]
    down = cloud.alarm("production-plone-down", after=600)
    assert down["stopped"] == [cloud.ids[(STACK, "lb1")]]
    assert cloud.state("lb0", "staging") == "stopped" and cloud.state("lb9", "staging") == "running"
    assert cloud.state("web0") == "stopped" and cloud.state("web9") == "running"
    assert cloud.tag("lb0", stack="staging") is None and cloud.tag("web9") is None


@pytest.mark.parametrize("value", ["OK", "INSUFFICIENT_DATA"])
def test_states_other_than_alarm_do_nothing(cloud: Cloud, value: str) -> None:
    plone_layer(cloud)
    cloud.launch("lb4", state="running", launched=NOW)
    before = cloud.states()
    for alarm in ("production-plone-up", "production-plone-down"):
        result = cloud.alarm(alarm, after=3600, value=value)
        assert result["started"] == [] and result["stopped"] == [] and value in result["reason"]
        assert cloud.alarm_state(alarm) == value
    assert cloud.states() == before
    assert all(cloud.tag(n) is None for _, n in cloud.ids)


def test_an_unknown_alarm_does_nothing(cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    plone_layer(cloud)
    before = cloud.states()
    result = cloud.alarm("production-plone-upp")
    assert result["started"] == [] and "not in STACKKIT_SCALING" in result["reason"]
    assert cloud.states() == before
    assert json.loads(capsys.readouterr().out)["alarm"] == "production-plone-upp"
    assert cloud.alarm_state("production-plone-upp") == "ALARM"  # not the scaler's alarm: never reset


def test_a_failed_alarm_reset_is_logged_and_the_scaling_stands(cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    plone_layer(cloud)
    cloud.cloudwatch.delete_alarms(AlarmNames=["production-plone-up"])
    result = cloud.alarm("production-plone-up")
    assert result["started"] == [cloud.ids[(STACK, "lb1")]] and cloud.state("lb1") == "running"
    reset = json.loads(capsys.readouterr().out)["alarm_reset"]
    assert isinstance(reset, str) and "SetAlarmState" in reset


def test_two_up_alarms_at_once_start_exactly_the_instances_asked(cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    plone_layer(cloud)
    cloud.launch("lb4")
    # widen the race: each invocation waits between reading the layer and acting on it
    read = aws.members

    def slow(*args: Any) -> list[Member]:
        found = read(*args)
        time.sleep(0.3)
        return found

    monkeypatch.setattr(aws, "members", slow)
    results: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda: results.append(aws.handler(alarm_event("production-plone-up2"), None)))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 2
    assert sorted(len(r["started"]) for r in results) == [0, 2]
    assert [cloud.state(n) for n in ("lb1", "lb2", "lb3", "lb4")] == ["running", "running", "stopped", "stopped"]


def test_members_checks_the_tags_again_and_reads_scaled_at() -> None:
    """Whatever EC2's filter returns, only this stack's instances tagged load-based for exactly this layer count."""

    def inst(iid: str, state: str = "stopped", **tags: str) -> dict[str, Any]:
        return {"InstanceId": iid, "State": {"Name": state}, "LaunchTime": datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC),
                "Tags": [{"Key": k.replace("_", ":", 1), "Value": v} for k, v in tags.items()]}

    pages = [
        {"Reservations": [{"Instances": [
            inst("i-1", stackkit_stack=STACK, stackkit_load_based="plone", stackkit_instance="lb1", **{"stackkit_scaled_at": "garbage"}),
            inst("i-2", stackkit_stack=STACK, stackkit_instance="app1"),
            inst("i-3", stackkit_stack=STACK, stackkit_load_based="plone2", stackkit_instance="lb2"),
        ]}]},
        {"Reservations": [{"Instances": [
            inst("i-4", stackkit_stack="staging", stackkit_load_based="plone", stackkit_instance="lb1"),
            inst("i-5", "running", stackkit_stack=STACK, stackkit_load_based="plone", stackkit_scaled_at="1800000000",
                 stackkit_woken="1800000060"),
        ]}]},
    ]
    calls: list[dict[str, Any]] = []

    class Paginator:
        def paginate(self, **kw: Any) -> list[dict[str, Any]]:
            calls.append(kw)
            return pages

    class Client:
        def get_paginator(self, name: str) -> Paginator:
            assert name == "describe_instances"
            return Paginator()

    found = aws.members(Client(), STACK, "plone")
    launched = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC).timestamp()
    assert found == [Member("lb1", "i-1", "stopped", launched, None),
                     Member("i-5", "i-5", "running", launched, 1_800_000_000.0, woken_at=1_800_000_060.0)]
    assert {f["Name"]: f["Values"] for f in calls[0]["Filters"]} == {
        "tag:stackkit:stack": [STACK], "tag:stackkit:load_based": ["plone"],
        "instance-state-name": ["pending", "running", "stopping", "stopped"]}


@pytest.mark.parametrize(("raw", "message"), [
    (None, "not set"),
    ("{", "not JSON"),
    ('{"alarms": {}}', "'stack'"),
    ('{"stack": "production", "alarms": {"a": {"layer": "plone", "direction": "left", "instances": 0, "ignore_minutes": 5}}}',
     "alarms.a.direction: 'up' or 'down'; alarms.a.instances: an integer >= 1"),
])
def test_a_malformed_configuration_is_an_error(monkeypatch: pytest.MonkeyPatch, raw: str | None, message: str) -> None:
    if raw is None:
        monkeypatch.delenv(aws.ENV, raising=False)
    else:
        monkeypatch.setenv(aws.ENV, raw)
    with pytest.raises(RuntimeError) as e:
        aws.handler(alarm_event("production-plone-up"), None)
    assert message in str(e.value)


# --- wake and settle: time- and load-based instances during `pulumi up` ------------------------------------------

OFFICE = frozenset(range(8, 17))  # Monday 08:00-17:00, as weekly hours (weekday * 24 + hour)

# (id, woken, hours, weekday, hour, expected)
SETTLE_CASES = [
    ("not woken, load-based", False, None, 0, 10, "nothing"),
    ("not woken, outside its hours", False, OFFICE, 0, 20, "nothing"),
    ("not woken, inside its hours", False, OFFICE, 0, 10, "nothing"),
    ("woken, load-based (no hours)", True, None, 0, 10, "stop"),
    ("woken, inside its hours", True, OFFICE, 0, 10, "keep"),
    ("woken, outside its hours", True, OFFICE, 0, 20, "stop"),
    ("woken, the same hour on another day", True, OFFICE, 1, 10, "stop"),
    ("woken, empty hours", True, frozenset(), 0, 10, "stop"),
    ("woken, first on-hour", True, OFFICE, 0, 8, "keep"),
    ("woken, last on-hour", True, OFFICE, 0, 16, "keep"),
    ("woken, the hour the schedule ends", True, OFFICE, 0, 17, "stop"),
    ("woken, the hour before it starts", True, OFFICE, 0, 7, "stop"),
    ("woken, Sunday 23:00 is 167", True, frozenset({167}), 6, 23, "keep"),
]


@pytest.mark.parametrize(("woken", "hours", "weekday", "hour", "expected"),
                         [c[1:] for c in SETTLE_CASES], ids=[c[0] for c in SETTLE_CASES])
def test_settle(woken: bool, hours: frozenset[int] | None, weekday: int, hour: int, expected: str) -> None:
    assert settle(woken, hours, weekday, hour) == expected


MONDAY_0730Z = datetime.datetime(2026, 11, 30, 7, 30, tzinfo=datetime.UTC).timestamp()  # a Monday; 08:30 in Amsterdam (CET)


def lifecycle(event: dict[str, Any]) -> dict[str, Any]:
    return aws.lifecycle_handler(event, None)


def test_wake_starts_a_stopped_instance_and_tags_it_woken(cloud: Cloud, capsys: pytest.CaptureFixture[str]) -> None:
    iid = cloud.launch("app4", load_based=None, state="stopped")
    assert lifecycle({"wake": iid}) == {"instance": iid, "woken": True, "state": "running"}
    assert cloud.state("app4") == "running"
    assert cloud.tag("app4", aws.WOKEN_TAG) == str(int(NOW))
    assert cloud.tag("app4") is None  # not a scaling change: the scaler's quiet period is not started
    log = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert log == [{"lifecycle": "wake", "instance": iid, "woken": True, "state": "running"}]


def test_wake_leaves_a_running_instance_untagged(cloud: Cloud) -> None:
    iid = cloud.launch("lb1", state="running")
    assert lifecycle({"wake": iid}) == {"instance": iid, "woken": False, "state": "running"}
    assert cloud.state("lb1") == "running" and cloud.tag("lb1", aws.WOKEN_TAG) is None


class FakeEC2:
    """Records the calls, in order; describe_instances reports `state`."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.calls: list[tuple[str, Any]] = []

    def describe_instances(self, **kw: Any) -> dict[str, Any]:
        return {"Reservations": [{"Instances": [{"InstanceId": kw["InstanceIds"][0], "State": {"Name": self.state}}]}]}

    def get_waiter(self, name: str) -> Any:
        calls = self.calls

        class Waiter:
            def wait(self, **kw: Any) -> None:
                calls.append((name, kw["WaiterConfig"]))

        return Waiter()

    def create_tags(self, **kw: Any) -> None:
        self.calls.append(("create_tags", kw["Tags"]))

    def start_instances(self, **kw: Any) -> None:
        self.calls.append(("start_instances", kw["InstanceIds"]))


@pytest.mark.parametrize(("state", "calls", "woken"), [
    ("stopping", ["instance_stopped", "create_tags", "start_instances", "instance_running"], True),
    ("stopped", ["create_tags", "start_instances", "instance_running"], True),
    ("pending", ["instance_running"], False),
    ("running", [], False),
])
def test_wake_tags_before_starting_and_waits_within_the_timeout(monkeypatch: pytest.MonkeyPatch, state: str,
                                                                 calls: list[str], woken: bool) -> None:
    ec2 = FakeEC2(state)
    monkeypatch.setattr(aws, "client", lambda service: ec2)
    monkeypatch.setattr(aws, "clock", lambda: NOW)
    assert lifecycle({"wake": "i-1"}) == {"instance": "i-1", "woken": woken, "state": "running"}
    assert [c[0] for c in ec2.calls] == calls
    for name, arg in ec2.calls:
        if name.startswith("instance_"):
            assert arg["Delay"] * arg["MaxAttempts"] <= 300 - 20  # each wait ends well inside the 300 s timeout
        if name == "create_tags":
            assert arg == [{"Key": "stackkit:woken", "Value": str(int(NOW))}]


def test_wake_refuses_a_terminated_instance(monkeypatch: pytest.MonkeyPatch) -> None:
    ec2 = FakeEC2("terminated")
    monkeypatch.setattr(aws, "client", lambda service: ec2)
    with pytest.raises(RuntimeError, match="terminated"):
        lifecycle({"wake": "i-1"})
    assert ec2.calls == []


def woken(cloud: Cloud, name: str, load_based: str | None = None) -> str:
    """A stopped instance that the up has just woken."""
    iid = cloud.launch(name, load_based=load_based, state="stopped")
    assert lifecycle({"wake": iid})["woken"] is True
    return iid


def test_settle_stops_a_woken_load_based_instance_again(cloud: Cloud) -> None:
    iid = woken(cloud, "lb1", load_based="plone")
    assert lifecycle({"settle": iid, "timezone": None, "hours": None}) == {"instance": iid, "action": "stop"}
    assert cloud.state("lb1") == "stopped" and cloud.tag("lb1", aws.WOKEN_TAG) is None


def test_settle_keeps_a_woken_time_based_instance_inside_its_hours(cloud: Cloud) -> None:
    cloud.now = MONDAY_0730Z  # its zone: UTC
    iid = woken(cloud, "app4")
    assert lifecycle({"settle": iid, "timezone": None, "hours": [7, 8]}) == {"instance": iid, "action": "keep"}
    assert cloud.state("app4") == "running" and cloud.tag("app4", aws.WOKEN_TAG) is None


def test_settle_stops_a_woken_time_based_instance_outside_its_hours(cloud: Cloud) -> None:
    cloud.now = MONDAY_0730Z
    iid = woken(cloud, "app4")
    assert lifecycle({"settle": iid, "timezone": None, "hours": [8, 9, 10]})["action"] == "stop"
    assert cloud.state("app4") == "stopped" and cloud.tag("app4", aws.WOKEN_TAG) is None


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_settle_leaves_an_instance_the_up_did_not_wake_alone(cloud: Cloud, state: str) -> None:
    iid = cloud.launch("lb1", state=state)
    cloud.client.create_tags(Resources=[iid], Tags=[{"Key": "stackkit:scaled_at", "Value": "1"}])
    assert lifecycle({"settle": iid, "timezone": None, "hours": None}) == {"instance": iid, "action": "nothing"}
    assert cloud.state("lb1") == state and cloud.tag("lb1") == "1"


@pytest.mark.parametrize(("utc", "hours", "action", "local"), [
    (MONDAY_0730Z, OFFICE, "keep", "2026-11-30T08:30:00+01:00"),  # UTC would say 07:30: stop
    (MONDAY_0730Z - 3600, OFFICE, "stop", "2026-11-30T07:30:00+01:00"),
    (MONDAY_0730Z, frozenset({7}), "stop", "2026-11-30T08:30:00+01:00"),  # UTC would say 07:30: keep
], ids=["08:30 local inside", "07:30 local outside", "07:00 hour only in UTC"])
def test_settle_reads_the_hour_in_the_instance_time_zone(cloud: Cloud, capsys: pytest.CaptureFixture[str], utc: float,
                                                          hours: frozenset[int], action: str, local: str) -> None:
    cloud.now = utc
    iid = woken(cloud, "app4")
    capsys.readouterr()
    result = lifecycle({"settle": iid, "timezone": "Europe/Amsterdam", "hours": sorted(hours)})
    assert result["action"] == action
    assert cloud.state("app4") == {"keep": "running", "stop": "stopped"}[action]
    assert json.loads(capsys.readouterr().out)["local"] == local


def test_a_time_zone_shipped_in_zones_is_used_first(cloud: Cloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # a name the tz database does not know, holding Amsterdam's rules: found only through the zones folder
    (tmp_path / "Stackkit").mkdir()
    tzif = importlib.resources.files("tzdata").joinpath("zoneinfo", "Europe", "Amsterdam").read_bytes()
    (tmp_path / "Stackkit" / "Office").write_bytes(tzif)
    with pytest.raises(ValueError, match="unknown timezone 'Stackkit/Office'"):
        aws.zone("Stackkit/Office")
    monkeypatch.setattr(aws, "ZONES", tmp_path)
    assert str(aws.zone("Stackkit/Office")) == "Stackkit/Office"
    cloud.now = MONDAY_0730Z
    iid = woken(cloud, "app4")
    assert lifecycle({"settle": iid, "timezone": "Stackkit/Office", "hours": sorted(OFFICE)})["action"] == "keep"
    assert cloud.state("app4") == "running"


@pytest.mark.parametrize("timezone", ["../zones/Europe/Amsterdam", "Europe/../../etc/localtime", "/etc/localtime", ""])
def test_a_time_zone_outside_the_zones_folder_is_refused(cloud: Cloud, timezone: str) -> None:
    iid = woken(cloud, "lb1", load_based="plone")
    with pytest.raises(ValueError, match="timezone must be an IANA name"):
        lifecycle({"settle": iid, "timezone": timezone, "hours": None})
    assert cloud.state("lb1") == "running" and cloud.tag("lb1", aws.WOKEN_TAG) is not None  # refused before acting


@pytest.mark.parametrize("event", [
    [],
    {},
    {"start": "i-1"},
    {"wake": "i-1", "settle": "i-1"},
    {"wake": "i-1", "timezone": None},
    {"wake": ""},
    {"settle": 5},
    {"settle": "i-1", "hour": [8]},
    {"settle": "i-1", "timezone": 1},
    {"settle": "i-1", "hours": "8"},
    {"settle": "i-1", "hours": [168]},
    {"settle": "i-1", "hours": [True]},
])
def test_a_malformed_lifecycle_event_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                                event: Any) -> None:
    ec2 = FakeEC2("stopped")
    monkeypatch.setattr(aws, "client", lambda service: ec2)
    with pytest.raises(ValueError, match='expected {"wake": "<instance id>"} or {"settle"'):
        lifecycle(event)
    assert ec2.calls == []
    assert "ValueError" in json.loads(capsys.readouterr().out)["error"]
