"""The local cloud's EventBridge Scheduler and scaling function: what AWS does to time- and load-based instances
between two `pulumi up`s, played against the machines from the resources `stackkit local up` recorded.

- `schedule_actions(state, at)`: for each time-based instance, the last of its recorded schedules (their cron
  expression, time zone, universal target and InstanceIds input) that fired at or before `at`; `play_schedule` starts
  or stops the machines accordingly, as the scheduler would have by then.
- `play_scale(state, fleet, layer, direction)`: the layer's up or down alarm fires: the deployed function's settings
  (its STACKKIT_SCALING environment, recorded with it) and the same `decide` the Lambda runs, over the layer's
  load-based machines (tag stackkit:load_based), their state, boot time and scaled_at.
- `invoke(state, fleet, payload)`: what the wake function does when `up` invokes it (an `aws:lambda/invocation`):
  wake a stopped machine before its scripts (marked woken), settle it after them with the same `settle` rule.

A start or stop here is an EC2 start or stop: the machine keeps its address, host key, volumes and files; the healer
takes a deliberate stop for one (pid 0 first) and leaves it stopped.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from stackkit.config.schedule import CRON_DAYS, TARGETS
from stackkit.errors import LocalError
from stackkit.local.state import LocalState
from stackkit.scaling.decide import Decision, Member, decide, settle

INSTANCE = "aws:ec2/instance:Instance"
SCHEDULE = "aws:scheduler/schedule:Schedule"
FUNCTION = "aws:lambda/function:Function"
CRON = re.compile(r"^cron\(0 (\d{1,2}) \? \* ([A-Z,]+) \*\)$")
ACTIONS = {arn: action for action, arn in TARGETS.items()}


class Machines(Protocol):
    def _state(self) -> dict[str, dict]: ...
    def start(self, name: str, timeout: float = 90) -> Any: ...
    def stop(self, name: str, timeout: float = 30) -> None: ...
    def tag(self, name: str, **values: object) -> None: ...


@dataclass(frozen=True)
class Fired:
    instance: str
    action: str               # "start" | "stop"
    schedule: str             # the schedule resource's name
    at: datetime              # when it last fired, in its time zone


def _instances_by_id(state: LocalState) -> dict[str, str]:
    return {r.id: r.name for r in state.resources.values() if r.type == INSTANCE}


def last_firing(expression: str, timezone: str, at: datetime) -> datetime:
    """The last time at or before `at` that a stackkit schedule (cron(0 H ? * DAYS *)) fired."""
    m = CRON.match(expression)
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


def schedule_actions(state: LocalState, at: datetime) -> dict[str, Fired]:
    """Per time-based instance, the schedule that fired last at or before `at`."""
    names = _instances_by_id(state)
    found: dict[str, Fired] = {}
    for r in state.resources.values():
        if r.type != SCHEDULE:
            continue
        target = r.secret_inputs.get("target") or {}
        action = ACTIONS.get(str(target.get("arn")))
        ids = json.loads(target.get("input") or "{}").get("InstanceIds") or []
        if action is None or r.secret_inputs.get("state", "ENABLED") != "ENABLED":
            continue
        fired = last_firing(r.secret_inputs["scheduleExpression"],
                            r.secret_inputs.get("scheduleExpressionTimezone") or "UTC", at)
        for iid in ids:
            inst = names.get(iid)
            if inst is not None and (inst not in found or fired > found[inst].at):
                found[inst] = Fired(instance=inst, action=action, schedule=r.name, at=fired)
    return found


def _running(fleet: Machines, machine: str) -> bool:
    from stackkit.local.machines import _alive
    return _alive(int(fleet._state().get(machine, {}).get("pid") or 0))


def play_schedule(state: LocalState, fleet: Machines, at: datetime, log: Any = print) -> list[Fired]:
    """Start or stop each time-based machine as its schedules want at `at`; returns what changed."""
    changed = []
    for inst, fired in sorted(schedule_actions(state, at).items()):
        machine = state.machines.get(inst)
        if machine is None:
            continue
        running = _running(fleet, machine)
        if fired.action == "start" and not running:
            log(f"start    {inst} ({fired.schedule}, fired {fired.at:%a %H:%M %Z})")
            fleet.start(machine)
            changed.append(fired)
        elif fired.action == "stop" and running:
            log(f"stop     {inst} ({fired.schedule}, fired {fired.at:%a %H:%M %Z})")
            fleet.stop(machine)
            changed.append(fired)
    return changed


def scaler_settings(state: LocalState) -> dict[str, Any]:
    """The deployed function's STACKKIT_SCALING, as recorded with it."""
    for r in state.resources.values():
        if r.type == FUNCTION:
            env = (r.secret_inputs.get("environment") or {}).get("variables") or {}
            if "STACKKIT_SCALING" in env:
                return dict(json.loads(env["STACKKIT_SCALING"]))
    raise LocalError("the stack has no scaling function: no layer sets load_based (layers.<name>.load_based)")


def members(state: LocalState, fleet: Machines, layer: str) -> list[Member]:
    entries = fleet._state()
    out = []
    for r in state.resources.values():
        tags = r.inputs.get("tags") or {}
        if r.type != INSTANCE or tags.get("stackkit:load_based") != layer or r.name not in state.machines:
            continue
        machine = state.machines[r.name]
        entry = entries.get(machine, {})
        scaled, woken = entry.get("scaled_at"), entry.get("woken")
        out.append(Member(name=r.name, id=machine, state="running" if _running(fleet, machine) else "stopped",
                          launched=float(entry.get("started") or 0), scaled_at=float(scaled) if scaled else None,
                          woken_at=float(woken) if woken else None))
    return out


def play_scale(state: LocalState, fleet: Machines, layer: str, direction: str, now: float | None = None,
               log: Any = print) -> Decision:
    """The layer's `direction` alarm fires: the function's decision over the machines, applied."""
    settings = scaler_settings(state)
    alarm = next((a for a, s in settings.get("alarms", {}).items()
                  if s.get("layer") == layer and s.get("direction") == direction), None)
    if alarm is None:
        layers = sorted({s["layer"] for s in settings.get("alarms", {}).values()})
        raise LocalError(f"layer {layer!r} does not scale on load (load-based layers: {', '.join(layers) or 'none'})")
    spec = settings["alarms"][alarm]
    now = time.time() if now is None else now
    decision = decide(direction, int(spec["instances"]), int(spec["ignore_minutes"]),  # type: ignore[arg-type]
                      members(state, fleet, layer), now)
    log(f"{alarm}: {decision.reason}")
    for machine in (*decision.start, *decision.stop):
        fleet.tag(machine, scaled_at=now)
    for machine in decision.start:
        fleet.start(machine)
    for machine in decision.stop:
        fleet.stop(machine)
    return decision


def invoke(state: LocalState, fleet: Machines, payload: dict[str, Any], now: datetime | None = None,
           log: Any = print) -> str:
    """The wake function on this host: {"wake": id} or {"settle": id, "timezone": tz, "hours": [...]}; returns what
    it did ("woken", "running", "stopped", "kept", "nothing")."""
    names = _instances_by_id(state)
    iid = payload.get("wake") or payload.get("settle")
    inst = names.get(str(iid))
    machine = state.machines.get(inst) if inst else None
    if machine is None:
        raise LocalError(f"the wake function was invoked for {iid!r}, which is no machine of this stack")
    when = now or datetime.now(ZoneInfo("UTC"))
    if "wake" in payload:
        if _running(fleet, machine):
            return "running"
        log(f"wake     {inst} (stopped: started for this up's scripts, settled after them)")
        fleet.tag(machine, woken=when.timestamp())
        fleet.start(machine)
        return "woken"
    woken = bool(fleet._state().get(machine, {}).get("woken"))
    local = when.astimezone(ZoneInfo(payload.get("timezone") or "UTC"))
    action = settle(woken, payload.get("hours"), local.weekday(), local.hour)
    if action == "nothing":
        return "nothing"
    fleet.tag(machine, woken=None)
    if action == "keep":
        log(f"settle   {inst} (woken by this up; its schedule wants it on now: kept running)")
        return "kept"
    log(f"settle   {inst} (woken by this up: stopped again)")
    fleet.stop(machine)
    return "stopped"
