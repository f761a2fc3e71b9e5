"""sk_resolvable (stackkit/lifecycle/prelude.sh) on a hosts file: the instance's hostname resolves after setup, and
a second run changes nothing. On machines: every e2e setup runs it on the real /etc/hosts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stackkit.lifecycle.script import library_text, shell_library

# (case, hosts file before, hosts file after sk_resolvable app1)
CASES = [
    ("no 127.0.1.1 line: added", "127.0.0.1 localhost\n", "127.0.0.1 localhost\n127.0.1.1 app1\n"),
    ("the image's old name on 127.0.1.1: replaced", "127.0.0.1 localhost\n127.0.1.1 ip-10-0-1-5.ec2.internal ip-10-0-1-5\n"
     "::1 localhost ip6-localhost\n", "127.0.0.1 localhost\n::1 localhost ip6-localhost\n127.0.1.1 app1\n"),
    ("already on 127.0.1.1: unchanged", "127.0.0.1 localhost\n127.0.1.1 app1.example.org app1\n",
     "127.0.0.1 localhost\n127.0.1.1 app1.example.org app1\n"),
    ("already on its own address: unchanged", "127.0.0.1 localhost\n10.213.0.11 app1\n",
     "127.0.0.1 localhost\n10.213.0.11 app1\n"),
    ("a longer name that starts with it is not it", "127.0.0.1 localhost\n10.213.0.12 app10\n",
     "127.0.0.1 localhost\n10.213.0.12 app10\n127.0.1.1 app1\n"),
    ("a comment naming it is not a line for it", "# app1 was here\n127.0.0.1 localhost\n",
     "# app1 was here\n127.0.0.1 localhost\n127.0.1.1 app1\n"),
]


@pytest.mark.parametrize(("case", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_the_hostname_resolves_and_a_second_run_changes_nothing(tmp_path: Path, case: str, before: str,
                                                                after: str) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(before)
    script = "set -euo pipefail\n" + shell_library(library_text("prelude.sh")) + '\nsk_resolvable app1 "$1"\n'
    for _ in range(2):
        subprocess.run(["bash", "-c", script, "bash", str(hosts)], check=True, capture_output=True, text=True)
        assert hosts.read_text() == after
