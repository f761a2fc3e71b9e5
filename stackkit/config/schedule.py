"""Time-based instances (OpsWorks' time-based automatic scaling): the weekly hours an instance runs, as data.

    stackkit:instances:
      app3:
        layers: [plone]
        schedule: {timezone: Europe/Amsterdam, mon: "08-18", tue: "08-18", sat: ["10-12", "14-16"]}

A day is a range of whole hours "HH-HH" (start inclusive, end exclusive, 00-24 = the whole day) or a list of them; a day
left out is off. The week is 168 hours in the instance's time zone (an IANA name, as EventBridge Scheduler takes it).
Ranges join across midnight and across days: "mon: 18-24, tue: 00-06" is one run from Monday 18:00 to Tuesday 06:00.

Everything here is pure: `transitions` gives the starts and stops EventBridge Scheduler fires (stackkit.components.
schedule), `is_on` what the schedule wants at a given moment (stackkit local's schedule player uses it).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, WithJsonSchema, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CRON_DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
# EventBridge Scheduler's universal targets for each action (the API called, with {"InstanceIds": [id]} as input)
TARGETS = {"start": "arn:aws:scheduler:::aws-sdk:ec2:startInstances",
           "stop": "arn:aws:scheduler:::aws-sdk:ec2:stopInstances"}
RANGE = re.compile(r"^(\d{2})-(\d{2})$")
HOURS_HINT = 'a range of whole hours "HH-HH" such as "08-18" (00-24 for the whole day), or a list of them'


def _parse_range(text: object) -> range:
    if not isinstance(text, str):
        raise ValueError(f"{str(text)[:40]!r} is not {HOURS_HINT}")
    m = RANGE.fullmatch(text)
    if not m:
        raise ValueError(f"{text[:40]!r} is not {HOURS_HINT}")
    start, end = int(m.group(1)), int(m.group(2))
    if start > 23 or end > 24 or end <= start:
        raise ValueError(f"{text!r}: the start is an hour 00-23 and the end a later hour up to 24 (e.g. 08-18); "
                         "for a run across midnight end the day at 24 and start the next at 00")
    return range(start, end)


def _hour_range(text: str) -> str:
    _parse_range(text)
    return text


HourRange = Annotated[str, AfterValidator(_hour_range)]
_RANGE_SCHEMA = {"type": "string", "pattern": RANGE.pattern}
# one range or a list of them in the stack file (a single one is made a list on load: see _one_range)
Day = Annotated[list[HourRange] | None, WithJsonSchema(
    {"anyOf": [_RANGE_SCHEMA, {"type": "array", "items": _RANGE_SCHEMA}, {"type": "null"}]})]


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timezone: str = "UTC"
    mon: Day = None
    tue: Day = None
    wed: Day = None
    thu: Day = None
    fri: Day = None
    sat: Day = None
    sun: Day = None

    @field_validator(*DAYS, mode="before")
    @classmethod
    def _one_range(cls, v: object) -> object:
        """A day is one range ("08-18", checked here: the message names the day) or a list (each checked with its
        index)."""
        if isinstance(v, str):
            _parse_range(v)
            return [v]
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        if v not in zones():
            raise ValueError(f"{v[:60]!r} is not an IANA time zone name (e.g. Europe/Amsterdam, America/New_York, "
                             "UTC), as EventBridge Scheduler takes it (the pinned tzdata's zones; not localtime or "
                             "Factory)")
        return v

    @field_validator(*DAYS)
    @classmethod
    def _day(cls, v: list[str] | None) -> list[str] | None:
        hours: set[int] = set()
        for r in v or []:
            span = _parse_range(r)
            if hours & set(span):
                raise ValueError(f"{r!r} overlaps another range of the same day; list each hour once")
            hours |= set(span)
        return v

    @model_validator(mode="after")
    def _runs_sometimes(self) -> Schedule:
        on = len(self.hours())
        if on == 0:
            raise ValueError("the schedule has no hours on, so the instance would never run; give it hours "
                             '(e.g. mon: "08-18") or remove the instance')
        if on == 7 * 24:
            raise ValueError("every hour of the week is on: that is a 24/7 instance; remove schedule")
        return self

    def day_hours(self, day: int) -> frozenset[int]:
        return frozenset(h for r in getattr(self, DAYS[day]) or [] for h in _parse_range(r))

    def hours(self) -> frozenset[int]:
        """The hours of the week it runs: day * 24 + hour, Monday 00:00 = 0."""
        return frozenset(d * 24 + h for d in range(7) for h in self.day_hours(d))

    def is_on(self, when: datetime) -> bool:
        """Should the instance be running at `when` (an aware datetime, any zone)?"""
        local = when.astimezone(zone(self.timezone))
        return local.weekday() * 24 + local.hour in self.hours()

    def description(self, instance: str, action: str) -> str:
        """The text of each of the instance's schedules (EventBridge Scheduler Description, at most 512 characters)."""
        days = ", ".join(f"{d} {','.join(getattr(self, d))}" for d in DAYS if getattr(self, d))
        return f"stackkit: {action} {instance} ({self.timezone}: {days})"

    def transitions(self) -> list[Transition]:
        """Where the week switches: a start at each off->on hour, a stop at each on->off hour, grouped by
        (action, hour) over the days it happens, in a stable order (the schedules' names derive from it)."""
        on = self.hours()
        found: dict[tuple[str, int], list[int]] = {}
        for h in range(7 * 24):
            now, before = h in on, (h - 1) % (7 * 24) in on
            if now != before:
                found.setdefault(("start" if now else "stop", h % 24), []).append(h // 24)
        return [Transition(action=a, hour=hour, days=tuple(days))
                for (a, hour), days in sorted(found.items(), key=lambda kv: (kv[0][1], kv[0][0]))]


@dataclass(frozen=True)
class Transition:
    action: str                 # "start" | "stop"
    hour: int                   # 0-23, in the schedule's time zone
    days: tuple[int, ...]       # 0 = Monday

    @property
    def cron(self) -> str:
        """EventBridge Scheduler's cron(minutes hours day-of-month month day-of-week year)."""
        return f"cron(0 {self.hour} ? * {','.join(CRON_DAYS[d] for d in self.days)} *)"

    @property
    def name(self) -> str:
        return f"{self.action}-{self.hour:02d}"


# Time zones as EventBridge Scheduler takes them (ScheduleExpressionTimezone: "the timezone in which the scheduling
# expression is evaluated", an IANA name), from the IANA database of the pinned tzdata package (requirements.txt),
# never the host's files: its `zones` list, without the names that are no place ("Factory") or a host's setting
# ("localtime", "posixrules"); UTC is in it.
NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})


@functools.cache
def zones() -> frozenset[str]:
    listed = (files("tzdata") / "zones").read_text(encoding="utf-8").split()
    return frozenset(listed) - NOT_PLACES


@functools.cache
def zone(name: str) -> ZoneInfo:
    """The zone from the pinned tzdata package (zoneinfo would read the host's /usr/share/zoneinfo first)."""
    with (files("tzdata.zoneinfo").joinpath(*name.split("/"))).open("rb") as f:
        return ZoneInfo.from_file(f, key=name)


# EventBridge Scheduler CreateSchedule Description: "Length Constraints: Maximum length of 512." (EventBridge
# Scheduler API Reference)
SCHEDULE_DESCRIPTION_MAX = 512

