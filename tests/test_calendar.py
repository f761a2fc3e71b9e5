"""systemd calendar expressions (stackkit/config/calendar.py) against the real `systemd-analyze calendar` (systemd
252, Debian 12's systemd package in scripts/debian-packages.txt): every case is accepted by both or refused by both,
except the two documented stricter refusals (STRICTER)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from stackkit.config.calendar import calendar_problem

CASES = [
    "daily", "Daily", "hourly UTC", "minutely", "weekly", "monthly", "quarterly", "semiannually", "annually", "yearly",
    "*-*-* 02:30:00", "Mon..Fri 08:00", "mon,wed *-*-1..7 4:0", "*:0/15", "Sat *-*-* 02:30 Europe/Amsterdam",
    "02:30 UTC", "*-*-* 02:30:00.5", "monday", "1..5:00", "*-02-31", "2024-02-30", "02-31", "2-3", "1/2-1",
    "2024-*-* 1:2", "*-1,3-1", "*-*~07", "*-02~1..3", "*-*-* 1,3:00", "*-*-* 01:00:59.999999", "mon..wed,fri",
    "Monday..Wednesday", "1:2:3", "1:2", "*:*", "00/2:00", "0..23/2:00", "2024..2026-1-1", "70-01-01", "99-01-01",
    "2199-12-31", "MON", "*-*-1 0:0 utc", "daily utc", "*-*-* *:*:*", "Mon,Mon 1:0",
    # refused by systemd
    "*-*-~1", "*-*-* 24:00", "12:61", "2200-01-01", "1969-01-01", "Fri..Mon", "Mon..", "now", "today", "Mon 7",
    "*-*-1/0", "*/2:00", "5", "12:00 5", "*-*-*/2", "*/2", "*-*-1,,2", "*-*-3..1", "*-*-1..3..5", "*-*-* 01:00:60",
    "*-*-32", "*-13-1", "*-0-1", "*-1-0", "Mon *-*-* 12:00  UTC", "  daily", "tues", "*-*-* 1:2:3:4", "1", "Mon,*",
    "Mon *", "", "daily\n", "*-*-* 02:30:00 Mars/Olympus",
]
# refused here, accepted by systemd: one moment, and the host's own zone
STRICTER = ["@1700000000", "*-*-* 2:3:4 localtime"]


def _systemd_accepts(spec: str) -> bool:
    run = subprocess.run(["systemd-analyze", "calendar", spec], capture_output=True, text=True, timeout=10, check=False)
    return run.returncode == 0


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (scripts/setup installs it)")
@pytest.mark.parametrize("spec", CASES)
def test_calendar_as_systemd_analyze_parses_it(spec: str) -> None:
    assert (calendar_problem(spec) is None) == _systemd_accepts(spec), calendar_problem(spec)


@pytest.mark.parametrize("spec", STRICTER)
def test_stricter_than_systemd(spec: str) -> None:
    assert calendar_problem(spec) is not None
