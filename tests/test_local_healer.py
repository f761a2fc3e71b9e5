"""The local cloud's recover alarm (stackkit.local.healer) against a fleet stand-in: it boots a machine again only when
its systemd-nspawn died without `stop`, after the alarm's checks, and leaves when healing is off or the machine goes.
On real machines: tests/e2e/test_auto_healing.py."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from stackkit.local import healer


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


class FakeFleet:
    """A fleet entry seen through `state()` for `checks` rounds; then healing goes off (the watch must end)."""

    def __init__(self, entry: dict[str, Any] | None, rounds: int) -> None:
        self.entry = entry
        self.rounds = rounds
        self.recovered = 0

    def state(self) -> dict[str, dict]:
        self.rounds -= 1
        if self.entry is not None and self.rounds < 0:
            self.entry = {**self.entry, "heal": False}
        return {} if self.entry is None else {"m": dict(self.entry)}

    def recover(self, name: str) -> None:
        self.recovered += 1
        assert self.entry is not None
        self.entry = {**self.entry, "pid": subprocess.Popen(["sleep", "30"]).pid}


# (case, fleet entry ("dead"/"alive" pids are made here), rounds watched, recoveries expected)
CASES = [
    ("died: recovered once, after the checks", {"heal": True, "pid": "dead"}, 6, 1),
    ("died, fewer rounds than the checks: not yet", {"heal": True, "pid": "dead"}, healer.CHECKS - 1, 0),
    ("stopped on purpose (pid 0): never", {"heal": True, "pid": 0}, 6, 0),
    ("running: never", {"heal": True, "pid": "alive"}, 6, 0),
    ("healing off: leaves at once", {"heal": False, "pid": "dead"}, 6, 0),
    ("the machine is gone: leaves at once", None, 6, 0),
]


@pytest.mark.parametrize(("case", "entry", "rounds", "expected"), CASES, ids=[c[0] for c in CASES])
def test_the_healer_recovers_only_a_machine_that_died(monkeypatch: pytest.MonkeyPatch, case: str,
                                                      entry: dict | None, rounds: int, expected: int) -> None:
    monkeypatch.setattr(healer, "INTERVAL", 0)
    alive = subprocess.Popen(["sleep", "30"])
    fleet = None
    try:
        if entry is not None:
            entry = {**entry, "pid": {"dead": _dead_pid(), "alive": alive.pid}.get(entry["pid"], entry["pid"])}
        fleet = FakeFleet(entry, rounds)
        assert healer.watch(fleet, "m") == 0  # type: ignore[arg-type]
        assert fleet.recovered == expected
    finally:
        alive.kill()
        if fleet is not None and fleet.entry and fleet.recovered:
            subprocess.run(["kill", str(fleet.entry["pid"])], check=False)
