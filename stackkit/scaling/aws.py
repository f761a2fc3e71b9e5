"""The AWS Lambda function that a layer's load-based scaling alarms invoke (handler `scaling.aws.handler`).

Each layer with load-based instances has two CloudWatch alarms on its average CPU, "up" and "down", whose alarm
action is this function's ARN. CloudWatch invokes it asynchronously with its alarm event:

    {"source": "aws.cloudwatch", "alarmArn": ..., "accountId": ..., "time": ..., "region": ...,
     "alarmData": {"alarmName": ..., "state": {"value": "ALARM", "reason": ..., "timestamp": ...},
                   "previousState": {...}, "configuration": {...}}}

Only `alarmData.alarmName` and `alarmData.state.value` are read; anything but ALARM does nothing.

Configuration: the environment variable STACKKIT_SCALING, JSON:

    {"stack": "production",
     "alarms": {"<alarm name>": {"layer": "plone", "direction": "up", "instances": 1, "ignore_minutes": 5}}}

An alarm not listed there is logged and ignored (never guessed from its name).

The layer's members are the EC2 instances tagged stackkit:stack = the stack and stackkit:load_based = the layer
(checked again here, exactly, after EC2's filter: a 24/7 instance is never started or stopped). `decide` picks what
to change; the chosen instances are first tagged stackkit:scaled_at = now (epoch seconds), so that the next invocation
sees the change and keeps quiet for ignore_minutes, then started or stopped.

Last the alarm is set back to OK, whatever was decided, even nothing: CloudWatch acts only on a change of state, so
an alarm left in ALARM would never invoke the function again while the load stays high (or low). Reset, it fires again
at its next evaluation if the load is still beyond the threshold (the quiet period makes those invocations do
nothing), and the next instance follows once ignore_minutes have passed, as OpsWorks did. A failed reset is logged,
not raised: the scaling is done, and a retry would only find the quiet period.

Races: AWS runs at most one invocation at a time, because the function has reserved concurrency 1 (set by the
Pulumi component that creates it); within one process the handler is serialised by a lock as well. Each invocation
prints one JSON line (CloudWatch Logs) and returns {"started": [...], "stopped": [...], "reason": "..."}.

Wake and settle (handler `scaling.aws.lifecycle_handler`, a second function from the same code): time- and load-based
instances may be stopped when `pulumi up` must run a lifecycle script on them over SSH, so the program invokes this
function synchronously (Pulumi `aws.lambda_.Invocation`) before the instance's scripts and after them:

    {"wake": "i-..."}  ->  {"instance": "i-...", "woken": true, "state": "running"}

starts a stopped instance (waiting for a stopping one to stop first) and waits until it runs; only an instance this
started is tagged stackkit:woken = now (epoch seconds), before it is started. A pending or running one is only waited
for, never tagged.

    {"settle": "i-...", "timezone": "Europe/Amsterdam" | null, "hours": [0..167, ...] | null}
        ->  {"instance": "i-...", "action": "stop" | "keep" | "nothing"}

reads the tag and the local time in `timezone` (UTC when null) and asks `settle`: an instance the up did not wake is
left alone; a woken one whose weekly on-hours (`hours`: weekday * 24 + hour, Monday 00:00 = 0; null for load-based)
hold the current hour keeps running; any other woken one is stopped again. The tag is removed either way. Time zones
come from the TZif files shipped in this package's zones/ folder (Lambda's runtime may have no tz database), else the
runtime's. This function has no reserved concurrency: the wakes of many instances during one up run in parallel and
are never throttled. A malformed event raises ValueError (the up fails with its message); one JSON line per invocation.

Imports only the standard library, boto3 (botocore with it) and this package (relatively): it runs as the top-level
package `scaling`.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import os
import threading
import time
import zoneinfo
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from .decide import STATES, Decision, Member, decide, settle

ENV = "STACKKIT_SCALING"
STACK_TAG = "stackkit:stack"
LOAD_BASED_TAG = "stackkit:load_based"
NAME_TAG = "stackkit:instance"
SCALED_AT_TAG = "stackkit:scaled_at"
WOKEN_TAG = "stackkit:woken"
ZONES = Path(__file__).parent / "zones"  # TZif files shipped with the code: zones/Europe/Amsterdam...
WAIT = {"Delay": 5, "MaxAttempts": 54}  # at most 270 s: inside the lifecycle function's 300 s timeout

clock = time.time  # the tests replace it
_lock = threading.Lock()


@functools.cache
def client(service: str) -> Any:
    """The boto3 client of `service`, made on first use (region and credentials from the environment Lambda provides)."""
    return boto3.client(service)


def config() -> dict[str, Any]:
    """STACKKIT_SCALING, checked: a malformed one is a deployment error and raises."""
    raw = os.environ.get(ENV)
    if raw is None:
        raise RuntimeError(f"{ENV} is not set")
    try:
        cfg = json.loads(raw)
    except ValueError as e:
        raise RuntimeError(f"{ENV} is not JSON: {e}") from None
    if not isinstance(cfg, dict) or not isinstance(cfg.get("stack"), str) or not cfg["stack"]:
        raise RuntimeError(f"{ENV} must be an object with a non-empty string 'stack'")
    alarms = cfg.get("alarms")
    if not isinstance(alarms, dict):
        raise RuntimeError(f"{ENV}: 'alarms' must be an object")
    problems = []
    for name, a in alarms.items():
        if not isinstance(a, dict):
            problems.append(f"alarms.{name}: not an object")
            continue
        if not isinstance(a.get("layer"), str) or not a["layer"]:
            problems.append(f"alarms.{name}.layer: a non-empty string")
        if a.get("direction") not in ("up", "down"):
            problems.append(f"alarms.{name}.direction: 'up' or 'down'")
        for key, least in (("instances", 1), ("ignore_minutes", 0)):
            v = a.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or v < least:
                problems.append(f"alarms.{name}.{key}: an integer >= {least}")
    if problems:
        raise RuntimeError(f"{ENV}: " + "; ".join(problems))
    return cfg


def _scaled_at(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        t = float(value)
    except ValueError:
        return None
    return t if math.isfinite(t) else None


def members(client: Any, stack: str, layer: str) -> list[Member]:
    """The load-based instances of `layer` in `stack`, as EC2 reports them."""
    pages = client.get_paginator("describe_instances").paginate(Filters=[
        {"Name": f"tag:{STACK_TAG}", "Values": [stack]},
        {"Name": f"tag:{LOAD_BASED_TAG}", "Values": [layer]},
        {"Name": "instance-state-name", "Values": list(STATES)},
    ])
    found = []
    for page in pages:
        for reservation in page.get("Reservations", []):
            for inst in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
                # defence in depth: whatever the filter returned, only this stack's load-based instances of this layer
                if tags.get(STACK_TAG) != stack or tags.get(LOAD_BASED_TAG) != layer:
                    continue
                found.append(Member(
                    name=tags.get(NAME_TAG) or inst["InstanceId"],
                    id=inst["InstanceId"],
                    state=inst["State"]["Name"],
                    launched=inst["LaunchTime"].timestamp(),
                    scaled_at=_scaled_at(tags.get(SCALED_AT_TAG)),
                    woken_at=_scaled_at(tags.get(WOKEN_TAG)),
                ))
    return found


def act(client: Any, decision: Decision, now: float) -> None:
    """Tag the chosen instances with the time of the change first, then start or stop them."""
    chosen = [*decision.start, *decision.stop]
    if not chosen:
        return
    client.create_tags(Resources=chosen, Tags=[{"Key": SCALED_AT_TAG, "Value": str(int(now))}])
    if decision.start:
        client.start_instances(InstanceIds=list(decision.start))
    if decision.stop:
        client.stop_instances(InstanceIds=list(decision.stop))


def reset(alarm: str) -> bool | str:
    """Set the alarm back to OK so that it can fire again: True, or the error (logged by the caller, not raised)."""
    try:
        client("cloudwatch").set_alarm_state(AlarmName=alarm, StateValue="OK",
                                             StateReason="stackkit scaler handled the alarm; evaluating again")
    except (BotoCoreError, ClientError) as e:
        return f"{type(e).__name__}: {e}"
    return True


def _log(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True))


def _nothing(alarm: Any, value: Any, reason: str) -> dict[str, Any]:
    _log(alarm=alarm, state=value, started=[], stopped=[], reason=reason)
    return {"started": [], "stopped": [], "reason": reason}


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """CloudWatch alarm action: start or stop the layer's load-based instances. One invocation at a time."""
    with _lock:
        data = event.get("alarmData") if isinstance(event, Mapping) else None
        data = data if isinstance(data, Mapping) else {}
        alarm = data.get("alarmName")
        state = data.get("state")
        value = state.get("value") if isinstance(state, Mapping) else None
        if value != "ALARM":
            return _nothing(alarm, value, f"alarm {alarm} is {value}, not ALARM: nothing to do")
        cfg = config()
        if not isinstance(alarm, str) or alarm not in cfg["alarms"]:
            return _nothing(alarm, value, f"alarm {alarm!r} is not in {ENV}: nothing to do")
        spec = cfg["alarms"][alarm]
        now = clock()
        decision = decide(spec["direction"], spec["instances"], spec["ignore_minutes"],
                          members(client("ec2"), cfg["stack"], spec["layer"]), now)
        line = {"alarm": alarm, "stack": cfg["stack"], "layer": spec["layer"], "direction": spec["direction"],
                "started": list(decision.start), "stopped": list(decision.stop), "reason": decision.reason,
                "alarm_reset": False}
        try:
            act(client("ec2"), decision, now)
            line["alarm_reset"] = reset(alarm)
        finally:  # one line even when EC2 refuses (the exception follows it into the log)
            _log(**line)
        return {"started": list(decision.start), "stopped": list(decision.stop), "reason": decision.reason}


# --- wake and settle: time- and load-based instances during `pulumi up` ------------------------------------------

def zone(name: str | None) -> datetime.tzinfo:
    """The time zone `name` (UTC for None): from the file shipped in zones/ if there is one, else the runtime's."""
    if name is None:
        return datetime.UTC
    if not isinstance(name, str) or not name or ".." in name or name.startswith("/"):
        raise ValueError(f"timezone must be an IANA name such as 'Europe/Amsterdam', not {name!r}")
    shipped = ZONES / name
    if shipped.is_file():
        with shipped.open("rb") as f:
            return zoneinfo.ZoneInfo.from_file(f, key=name)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}: neither in {ZONES} nor in the runtime's tz database") from None


def _instance(iid: str) -> tuple[str, dict[str, str]]:
    """The instance's state and tags."""
    inst = client("ec2").describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    return inst["State"]["Name"], {t["Key"]: t["Value"] for t in inst.get("Tags", [])}


def wake(iid: str) -> bool:
    """Make the instance run; True when it was stopped (or stopping) and this started it, tagged WOKEN_TAG first."""
    ec2 = client("ec2")
    state, _ = _instance(iid)
    if state == "stopping":
        ec2.get_waiter("instance_stopped").wait(InstanceIds=[iid], WaiterConfig=WAIT)
        state = "stopped"
    if state not in ("stopped", "pending", "running"):
        raise RuntimeError(f"instance {iid} is {state}: it cannot be woken")
    woken = state == "stopped"
    if woken:
        ec2.create_tags(Resources=[iid], Tags=[{"Key": WOKEN_TAG, "Value": str(int(clock()))}])
        ec2.start_instances(InstanceIds=[iid])
    if state != "running":
        ec2.get_waiter("instance_running").wait(InstanceIds=[iid], WaiterConfig=WAIT)
    return woken


def _lifecycle_event(event: Any) -> tuple[str, str, str | None, frozenset[int] | None]:
    """("wake" | "settle", instance id, timezone, hours), or ValueError saying what was expected."""
    expected = ('expected {"wake": "<instance id>"} or {"settle": "<instance id>", "timezone": "<IANA name>" | null, '
                '"hours": [0..167, ...] | null}')
    if not isinstance(event, Mapping):
        raise ValueError(f"{expected}, not {type(event).__name__}")
    keys = set(event)
    if keys == {"wake"}:
        kind = "wake"
    elif "settle" in keys and keys <= {"settle", "timezone", "hours"}:
        kind = "settle"
    else:
        raise ValueError(f"{expected}, not an event with keys {sorted(map(str, keys))}")
    iid = event[kind]
    if not isinstance(iid, str) or not iid:
        raise ValueError(f"{expected}: {kind!r} must be an instance id, not {iid!r}")
    timezone, hours = event.get("timezone"), event.get("hours")
    if timezone is not None and not isinstance(timezone, str):
        raise ValueError(f"{expected}: 'timezone' must be a string or null, not {timezone!r}")
    if hours is not None and (not isinstance(hours, list) or not all(
            isinstance(h, int) and not isinstance(h, bool) and 0 <= h < 168 for h in hours)):
        raise ValueError(f"{expected}: 'hours' must be a list of integers 0..167 or null, not {hours!r}")
    return kind, iid, timezone, None if hours is None else frozenset(hours)


def lifecycle_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """`pulumi up`'s wake (before an instance's scripts) and settle (after them); see the module's docstring."""
    line: dict[str, Any] = {"lifecycle": None}
    try:
        kind, iid, timezone, hours = _lifecycle_event(event)
        line.update(lifecycle=kind, instance=iid)
        if kind == "wake":
            woken = wake(iid)
            line.update(woken=woken, state="running")
            return {"instance": iid, "woken": woken, "state": "running"}
        local = datetime.datetime.fromtimestamp(clock(), zone(timezone))  # a bad zone refuses before EC2 is touched
        _, tags = _instance(iid)
        action = settle(WOKEN_TAG in tags, hours, local.weekday(), local.hour)
        line.update(woken=WOKEN_TAG in tags, timezone=timezone, local=local.isoformat(), action=action)
        if action != "nothing":
            client("ec2").delete_tags(Resources=[iid], Tags=[{"Key": WOKEN_TAG}])
        if action == "stop":
            client("ec2").stop_instances(InstanceIds=[iid])
        return {"instance": iid, "action": action}
    except Exception as e:
        line["error"] = f"{type(e).__name__}: {e}"
        raise
    finally:
        _log(**line)
