"""A long lifecycle script is not silent until it ends: the local runner's SSH client hands each progress line the
script logs (sk_log, on stderr) to a callback while it runs, and still returns the whole output, or the tail on
failure. Exercised with a local process standing in for ssh."""

from __future__ import annotations

import time

import pytest

from stackkit.errors import LocalError
from stackkit.local.ssh import _run

SCRIPT = ('read -r line; printf "stackkit[00:00:01]: first %s\\n" "$line" >&2; sleep 1; echo out; '
          'echo "noise" >&2; printf "stackkit[00:00:02]: second\\n" >&2')


def test_progress_lines_arrive_while_the_script_runs() -> None:
    seen: list[tuple[float, str]] = []
    start = time.monotonic()
    result = _run(["bash", "-c", SCRIPT], "u", "h", "script", "hello\n", 1, 30,
                  lambda line: seen.append((time.monotonic() - start, line)))
    end = time.monotonic() - start
    assert [line for _, line in seen] == ["stackkit[00:00:01]: first hello", "stackkit[00:00:02]: second"]
    assert seen[0][0] < end - 0.5, "the first line came before the script ended"
    assert result.stdout == "out"
    assert "noise" in result.stderr and result.exit_code == 0


def test_a_failure_raises_with_the_tail_of_the_output() -> None:
    with pytest.raises(LocalError, match=r"exited 3; last lines of its output:\nboom"):
        _run(["bash", "-c", "echo boom >&2; exit 3"], "u", "h", "script", None, 1, 30)
