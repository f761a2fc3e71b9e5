"""The local cloud's fleet.json under several writers at once, as in the e2e run: the runner, one healer per machine,
the schedule and the scaler each read, change and write it. Found in a CI run: a healer read the file while another
process was rewriting it, got an empty file, died, and its machine was never recovered."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from stackkit.local.machines import Fleet

WRITERS = 4
ROUNDS = 60


def _write(workdir: str, writer: int) -> None:
    fleet = Fleet(Path(workdir))
    for n in range(ROUNDS):
        fleet.tag("m", **{f"w{writer}": n})


def _read(workdir: str, errors: multiprocessing.Queue) -> None:
    fleet = Fleet(Path(workdir))
    for _ in range(ROUNDS * WRITERS):
        try:
            fleet.state()
        except ValueError as exc:     # json.JSONDecodeError: a half-written file
            errors.put(repr(exc))
            return


def test_concurrent_writers_lose_no_change_and_readers_never_see_a_half_written_file(tmp_path: Path) -> None:
    Fleet(tmp_path)._record("m", {"address": "10.213.0.10", "pid": 0})
    ctx = multiprocessing.get_context("fork")
    errors: multiprocessing.Queue = ctx.Queue()
    procs = [ctx.Process(target=_write, args=(str(tmp_path), w)) for w in range(WRITERS)]
    procs += [ctx.Process(target=_read, args=(str(tmp_path), errors)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    seen = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert seen == []
    entry = json.loads((tmp_path / "fleet.json").read_text())["m"]
    assert entry == {"address": "10.213.0.10", "pid": 0, **{f"w{w}": ROUNDS - 1 for w in range(WRITERS)}}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.json", "fleet.lock"]   # no temporary file left


def test_merge_leaves_a_gone_machine_gone(tmp_path: Path) -> None:
    fleet = Fleet(tmp_path)
    fleet._record("m", {"pid": 0})
    fleet._record("m", None)
    fleet.tag("m", scaled_at=1.0)
    assert fleet.state() == {}
