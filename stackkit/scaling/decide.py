"""Which load-based instances of a layer to start or stop when one of its alarms fires: pure rules, no I/O.

The rules, in order (OpsWorks' load-based instances):
0. a member woken by a `pulumi up` (less than an hour ago) is running its scripts: do nothing until the up settles it;
1. a member started or stopped by the scaler less than `ignore_minutes` ago: do nothing (metrics still settle);
2. a member pending or stopping: do nothing (the layer is changing already);
3. up: start up to `count` stopped members, in name order ("the next" stopped instance);
4. down: stop up to `count` running members, the most recently launched first (ties: name descending).
Members in any other state (shutting-down, terminated...) are ignored entirely. Only the given members are ever chosen.

`settle` says what becomes of a time- or load-based instance that `pulumi up` woke (started) to run its lifecycle
scripts, once they ran: one it did not wake is left as it was ("nothing"); a woken one whose weekly schedule wants it
on at this hour stays running ("keep"); any other woken one (load-based, or time-based outside its hours) is stopped
again ("stop").
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

STATES = ("pending", "running", "stopping", "stopped")
WOKEN_STALE = 3600      # seconds: a woken tag this old is left over from a failed up


@dataclass(frozen=True)
class Member:
    """One load-based instance of the layer, as the cloud reports it."""

    name: str  # stackkit's instance name (EC2 tag stackkit:instance)
    id: str  # the cloud's id (EC2 instance id; a machine name locally)
    state: str  # "pending" | "running" | "stopping" | "stopped" (anything else: ignored entirely)
    launched: float  # epoch seconds of its last start (EC2 LaunchTime)
    scaled_at: float | None  # epoch seconds the scaler last started or stopped it (tag stackkit:scaled_at), or None
    woken_at: float | None = None  # epoch seconds a `pulumi up` woke it to run its scripts (tag stackkit:woken)


@dataclass(frozen=True)
class Decision:
    start: tuple[str, ...]  # ids to start
    stop: tuple[str, ...]  # ids to stop
    reason: str  # one human line saying why (logged)


def _nothing(reason: str) -> Decision:
    return Decision(start=(), stop=(), reason=reason)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def decide(direction: Literal["up", "down"], count: int, ignore_minutes: int, members: Sequence[Member], now: float) -> Decision:
    """What to start or stop for one alarm of a layer (`count` instances per alarm), at time `now` (epoch seconds)."""
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    live = [m for m in members if m.state in STATES]
    # an up is running scripts on a member it woke: leave the layer alone until the up settles it (a tag older than
    # WOKEN_STALE is a failed up's leftover and no longer counts)
    in_use = sorted(m.name for m in live if m.woken_at is not None and now - m.woken_at < WOKEN_STALE)
    if in_use:
        return _nothing(f"a pulumi up is running scripts on {', '.join(in_use)}: nothing changes until it settles")
    window = max(ignore_minutes, 0) * 60
    changes = [m.scaled_at for m in live if m.scaled_at is not None]
    if changes and (ago := now - max(changes)) < window:
        return _nothing(f"ignoring metrics for {ignore_minutes} min after a change: the last one was {ago:.0f} s ago")
    busy = sorted(m.name for m in live if m.state in ("pending", "stopping"))
    if busy:
        return _nothing(f"the layer is changing: {', '.join(busy)} pending or stopping")
    if count < 1:
        return _nothing(f"the alarm asks for {count} instances: nothing to do")
    if direction == "up":
        stopped = sorted((m for m in live if m.state == "stopped"), key=lambda m: (m.name, m.id))
        if not stopped:
            return _nothing("no stopped load-based instance left to start")
        chosen = stopped[:count]
        names = ", ".join(m.name for m in chosen)
        return Decision(start=tuple(m.id for m in chosen), stop=(),
                        reason=f"starting {_plural(len(chosen), 'instance')} of {count} asked ({names}); "
                               f"{len(stopped) - len(chosen)} stopped left")
    running = sorted((m for m in live if m.state == "running"), key=lambda m: (m.launched, m.name, m.id), reverse=True)
    if not running:
        return _nothing("no running load-based instance left to stop")
    chosen = running[:count]
    names = ", ".join(m.name for m in chosen)
    return Decision(start=(), stop=tuple(m.id for m in chosen),
                    reason=f"stopping {_plural(len(chosen), 'instance')} of {count} asked, most recently launched first "
                           f"({names}); {len(running) - len(chosen)} load-based left running")


def settle(woken: bool, hours: Collection[int] | None, weekday: int, hour: int) -> Literal["stop", "keep", "nothing"]:
    """After `pulumi up` ran an instance's scripts: stop it again, keep it running, or leave it as it was.

    `woken`: the up started it (it was stopped before); `hours`: a time-based instance's weekly on-hours
    (weekday * 24 + hour, Monday 00:00 = 0, in its own time zone), None for a load-based one; `weekday` (Monday = 0)
    and `hour`: the local time now, in that same zone.
    """
    if not woken:
        return "nothing"
    if hours is not None and weekday * 24 + hour in hours:
        return "keep"
    return "stop"
