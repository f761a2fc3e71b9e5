"""The local cloud's EventBridge Scheduler, scaling function and wake function: what AWS does to time- and load-based
instances, played against the machines from what the stand-in recorded when `pulumi up` created the resources.

- `schedule_actions(cloud, at)`: for each time-based instance, the last of its recorded schedules (their cron
  expression, time zone, universal target and InstanceIds input) that fired at or before `at`; `play_schedule` starts
  or stops the machines accordingly, as the scheduler would have by then.
- `play_scale(cloud, layer, direction)`: the layer's up or down alarm fires: the deployed function's settings (its
  STACKKIT_SCALING environment, recorded with it) and the same `decide` the Lambda runs, over the layer's load-based
  machines (tag stackkit:load_based), their state, boot time and scaled_at.
- `invoke(cloud, payload)`: what the wake function does when `up` invokes it (an `aws:lambda/invocation`, in the
  stand-in's Create): wake a stopped machine before its scripts (marked woken), settle it after them with the same
  `settle` rule.

A start or stop here is an EC2 start or stop: the machine keeps its address, host key, volumes and files; the healer
takes a deliberate stop for one (pid 0 first) and leaves it stopped. A machine is named by its instance id.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from stackkit.config.schedule import CRON_DAYS, TARGETS
from stackkit.errors import LocalError
from stackkit.local.aws.cloud import Cloud
from stackkit.local.machines import alive
from stackkit.scaling.decide import Decision, Member, decide, settle

INSTANCE = "aws:ec2/instance:Instance"
SCHEDULE = "aws:scheduler/schedule:Schedule"
FUNCTION = "aws:lambda/function:Function"
CRON = re.compile(r"cron\(0 (\d{1,2}) \? \* ([A-Z,]+) \*\)")
ACTIONS = {arn: action for action, arn in TARGETS.items()}
Log = Callable[[str], None]


class Machines(Protocol):
    """What the players need of stackkit.local.machines.Fleet (a machine is named by its instance id)."""

    def state(self) -> dict[str, dict]: ...
    def start(self, name: str, timeout: float = 90) -> Any: ...
    def stop(self, name: str, timeout: float = 30) -> None: ...
    def tag(self, name: str, **values: object) -> None: ...


@dataclass(frozen=True)
class Fired:
    instance: str
    action: str               # "start" | "stop"
    schedule: str             # the schedule's name
    at: datetime              # when it last fired, in its time zone


def instances(cloud: Cloud) -> dict[str, dict[str, Any]]:
    """instance id -> its recorded properties."""
    return {i: r["props"] for i, r in cloud.records().items() if r["type"] == INSTANCE}


def name_of(props: dict[str, Any]) -> str:
    return str((props.get("tags") or {}).get("stackkit:instance") or props.get("id"))


def last_firing(expression: str, timezone: str, at: datetime) -> datetime:
    """The last time at or before `at` that a stackkit schedule (cron(0 H ? * DAYS *)) fired."""
    m = CRON.fullmatch(expression)
    if not m:
        raise LocalError(f"{expression!r}: not a schedule expression stackkit writes (cron(0 H ? * DAYS *))")
    hour, days = int(m.group(1)), {CRON_DAYS.index(d) for d in m.group(2).split(",")}
    local = at.astimezone(ZoneInfo(timezone))
    for back in range(8):
        day = (local - timedelta(days=back)).date()
        fire = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(timezone))
        if day.weekday() in days and fire <= local:
            return fire
    raise LocalError(f"{expression!r} never fires")


def schedule_actions(cloud: Cloud, at: datetime) -> dict[str, Fired]:
    """Per time-based instance id, the schedule that fired last at or before `at`."""
    known = instances(cloud)
    found: dict[str, Fired] = {}
    for r in cloud.records().values():
        if r["type"] != SCHEDULE:
            continue
        p = r["props"]
        target = p.get("target") or {}
        action = ACTIONS.get(str(target.get("arn")))
        ids = json.loads(target.get("input") or "{}").get("InstanceIds") or []
        if action is None or (p.get("state") or "ENABLED") != "ENABLED":
            continue
        fired = last_firing(p["scheduleExpression"], p.get("scheduleExpressionTimezone") or "UTC", at)
        for iid in ids:
            if iid in known and (iid not in found or fired > found[iid].at):
                found[iid] = Fired(instance=iid, action=action, schedule=str(p.get("name")), at=fired)
    return found


def running(fleet: Machines, machine: str) -> bool:
    return alive(int(fleet.state().get(machine, {}).get("pid") or 0))


def play_schedule(cloud: Cloud, at: datetime, log: Log = print, fleet: Machines | None = None) -> list[Fired]:
    """Start or stop each time-based machine as its schedules want at `at`; returns what changed."""
    fleet = fleet or cloud.fleet()
    known = instances(cloud)
    changed = []
    for iid, fired in sorted(schedule_actions(cloud, at).items()):
        name, up = name_of(known[iid]), running(fleet, iid)
        if fired.action == "start" and not up:
            log(f"start    {name} ({fired.schedule}, fired {fired.at:%a %H:%M %Z})")
            fleet.start(iid)
            changed.append(fired)
        elif fired.action == "stop" and up:
            log(f"stop     {name} ({fired.schedule}, fired {fired.at:%a %H:%M %Z})")
            fleet.stop(iid)
            changed.append(fired)
    return changed


def scaler_settings(cloud: Cloud) -> dict[str, Any]:
    """The deployed function's STACKKIT_SCALING, as recorded with it."""
    for r in cloud.records().values():
        if r["type"] == FUNCTION:
            env = (r["props"].get("environment") or {}).get("variables") or {}
            if "STACKKIT_SCALING" in env:
                return dict(json.loads(env["STACKKIT_SCALING"]))
    raise LocalError("the stack has no scaling function: no layer sets load_based (layers.<name>.load_based)")


def members(cloud: Cloud, fleet: Machines, layer: str) -> list[Member]:
    entries = fleet.state()
    out = []
    for iid, props in sorted(instances(cloud).items()):
        if (props.get("tags") or {}).get("stackkit:load_based") != layer:
            continue
        entry = entries.get(iid, {})
        scaled, woken = entry.get("scaled_at"), entry.get("woken")
        out.append(Member(name=name_of(props), id=iid, state="running" if running(fleet, iid) else "stopped",
                          launched=float(entry.get("started") or 0), scaled_at=float(scaled) if scaled else None,
                          woken_at=float(woken) if woken else None))
    return out


def play_scale(cloud: Cloud, layer: str, direction: str, now: float | None = None, log: Log = print,
               fleet: Machines | None = None) -> Decision:
    """The layer's `direction` alarm fires: the function's decision over the machines, applied."""
    fleet = fleet or cloud.fleet()
    settings = scaler_settings(cloud)
    alarm = next((a for a, s in settings.get("alarms", {}).items()
                  if s.get("layer") == layer and s.get("direction") == direction), None)
    if alarm is None:
        layers = sorted({s["layer"] for s in settings.get("alarms", {}).values()})
        raise LocalError(f"layer {layer!r} does not scale on load (load-based layers: {', '.join(layers) or 'none'})")
    spec = settings["alarms"][alarm]
    now = time.time() if now is None else now
    decision = decide(direction, int(spec["instances"]), int(spec["ignore_minutes"]),  # type: ignore[arg-type]
                      members(cloud, fleet, layer), now)
    log(f"{alarm}: {decision.reason}")
    for machine in (*decision.start, *decision.stop):
        fleet.tag(machine, scaled_at=now)
    for machine in decision.start:
        fleet.start(machine)
    for machine in decision.stop:
        fleet.stop(machine)
    return decision


def invoke(cloud: Cloud, payload: dict[str, Any], now: datetime | None = None, log: Log = print,
           fleet: Machines | None = None) -> str:
    """The wake function on this host: {"wake": id} or {"settle": id, "timezone": tz, "hours": [...]}; returns what
    it did ("woken", "running", "stopped", "kept", "nothing")."""
    iid = str(payload.get("wake") or payload.get("settle"))
    if iid not in instances(cloud):
        raise LocalError(f"the wake function was invoked for {iid!r}, which is no machine of this stack")
    fleet = fleet or cloud.fleet()
    when = now or datetime.now(ZoneInfo("UTC"))
    if "wake" in payload:
        if running(fleet, iid):
            return "running"
        log(f"wake     {iid} (stopped: started for this up's scripts, settled after them)")
        fleet.tag(iid, woken=when.timestamp())
        fleet.start(iid)
        return "woken"
    woken = bool(fleet.state().get(iid, {}).get("woken"))
    local = when.astimezone(ZoneInfo(payload.get("timezone") or "UTC"))
    action = settle(woken, payload.get("hours"), local.weekday(), local.hour)
    if action == "nothing":
        return "nothing"
    fleet.tag(iid, woken=None)
    if action == "keep":
        log(f"settle   {iid} (woken by this up; its schedule wants it on now: kept running)")
        return "kept"
    log(f"settle   {iid} (woken by this up: stopped again)")
    fleet.stop(iid)
    return "stopped"
