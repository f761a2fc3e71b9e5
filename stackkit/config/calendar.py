"""systemd calendar expressions (a timer's OnCalendar=), checked as systemd 252 parses them (`systemd-analyze calendar`,
systemd's own source, calendarspec.c; the grammar in systemd.time(7), "Calendar Events"), so a value that passes load never
makes the timer unit fail on the host.

    [weekdays] [[year-]month-day | [year-]month~day] [hour:minute[:second]] [UTC | an IANA zone]

or one of the words minutely, hourly, daily, weekly, monthly, yearly, annually, quarterly, semiannually (any case).
Weekdays are names (Mon or Monday, any case) with ',' lists and '..' ranges; every other field is '*' or a ','-list of
numbers, each with an optional '..' range and '/' repetition; seconds may have a fraction. Two-digit years are
1970-2069 as in systemd; years 1970-2199, months 1-12, days 1-31, hours 0-23, minutes and seconds 0-59.

Stricter than systemd in two ways, both refused with a message: `@<epoch>` (one moment, not a recurring time) and a
zone other than UTC or one of the pinned tzdata's (a host's `localtime` is not a place).
"""

from __future__ import annotations

import re

from stackkit.config.schedule import zones

WORDS = frozenset({"minutely", "hourly", "daily", "weekly", "monthly", "yearly", "annually", "quarterly",
                   "semiannually"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER = re.compile(r"(\d+)(?:\.\.(\d+))?(?:/(\d+))?")
_SECONDS = re.compile(r"(\d+)(?:\.\d+)?(?:\.\.(\d+)(?:\.\d+)?)?(?:/(\d+)(?:\.\d+)?)?")


class _Bad(ValueError):
    pass


def _weekday(name: str) -> int:
    low = name.lower()
    for i, day in enumerate(WEEKDAYS):
        if low in (day, day[:3]):
            return i
    raise _Bad(f"{name!r} is not a weekday (Mon or Monday ... Sun or Sunday)")


def _weekdays(text: str) -> None:
    for item in text.split(","):
        first, dots, last = item.partition("..")
        start = _weekday(first)
        if dots and _weekday(last) < start:
            raise _Bad(f"the weekday range {item!r} runs backwards (write Mon..Fri, or list both ends: Fri..Sun,Mon)")


def _full_year(v: int) -> int:
    return v + 2000 if v < 70 else v + 1900 if v < 100 else v


def _chain(text: str, what: str, low: int, high: int, *, fraction: bool = False, year: bool = False) -> None:
    """'*' or a ','-list of N[..M][/R] with every value in low..high."""
    if text == "*":
        return
    for item in text.split(","):
        m = (_SECONDS if fraction else _NUMBER).fullmatch(item)
        if m is None:
            raise _Bad(f"{item!r} is not a {what}: '*' or numbers with ',' lists, '..' ranges and '/' repetitions")
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) is not None else None
        repeat = int(m.group(3)) if m.group(3) is not None else None
        if year:    # two digits: 1970-2069, as systemd reads them
            start = _full_year(start)
            end = _full_year(end) if end is not None else None
        for v in (start, end):
            if v is not None and not low <= v <= high:
                raise _Bad(f"{item!r}: {'an' if what == 'hour' else 'a'} {what} is {low} to {high}")
        if end is not None and end < start:
            raise _Bad(f"the range {item!r} runs backwards")
        if repeat == 0:
            raise _Bad(f"{item!r}: a repetition of 0 never advances")


def _date(text: str) -> None:
    tilde = "~" in text
    parts = re.split(r"[-~]", text)
    if len(parts) == 3:
        year, month, day = parts
        if tilde and text.index("~") < text.rindex("-"):
            raise _Bad(f"{text!r}: '~' (days from the month's end) goes between the month and the day")
        _chain(year, "year", 1970, 2199, year=True)
    elif len(parts) == 2:
        month, day = parts
    else:
        raise _Bad(f"{text!r} is not a date: [year-]month-day or [year-]month~day")
    _chain(month, "month", 1, 12)
    _chain(day, "day", 1, 31)


def _time(text: str) -> None:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise _Bad(f"{text!r} is not a time: hour:minute[:second]")
    _chain(parts[0], "hour", 0, 23)
    _chain(parts[1], "minute", 0, 59)
    if len(parts) == 3:
        _chain(parts[2], "second", 0, 59, fraction=True)


def _parse(spec: str) -> None:
    if spec != spec.strip(" ") or not spec:
        raise _Bad("no leading or trailing spaces, and not empty")
    if spec.startswith("@"):
        raise _Bad("@<seconds since 1970> is one moment, not a recurring time")
    head, _, last = spec.rpartition(" ")
    if head and (last.upper() == "UTC" or last in zones()):
        spec = head
    elif head and "/" in last:
        raise _Bad(f"{last!r} is not a time zone stackkit knows (UTC or an IANA name of the pinned tzdata)")
    if spec.lower() in WORDS:
        return
    words = spec.split(" ")
    if "" in words:
        raise _Bad("one space between the parts")
    if words[0][:1].isalpha():
        _weekdays(words.pop(0))
    if words and ":" not in words[0]:
        _date(words.pop(0))
    if words:
        _time(words.pop(0))
    if words:
        raise _Bad(f"{' '.join(words)!r} is left over after the weekdays, the date and the time")


def calendar_problem(spec: str) -> str | None:
    """Why systemd would refuse `spec` as OnCalendar= (None: it parses)."""
    try:
        _parse(spec)
    except _Bad as exc:
        return (f"{spec[:80]!r} is not a systemd calendar expression ({exc}; systemd.time(7), e.g. "
                "'*-*-* 02:30:00' or 'Mon..Fri 08:00')")
    return None
