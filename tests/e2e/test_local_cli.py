"""`stackkit local`, the README's first command, on the staging stack: `local up` runs `pulumi up` through the
Automation API and prints the URL it serves; `local status` lists the machine; a second `up` runs no script; nothing
the local cloud keeps holds a secret of the stack in plaintext; `local down` destroys all but the protected volumes
and Elastic IP, and the next `up` takes them back with their data.

Its own bridge and folder (STACKKIT_LOCAL_*), beside the e2e cluster's; the Debian base tree is the e2e one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stackkit.local.aws.cloud import Cloud
from stackkit.paths import ROOT
from tests.e2e.conftest import WORKDIR, _skip_reason

pytestmark = pytest.mark.e2e
FOLDER = Path("/var/tmp/stackkit-e2e-local")
ENV = {"STACKKIT_LOCAL_BRIDGE": "skbr6", "STACKKIT_LOCAL_SUBNET": "10.219.0.0/24",
       "STACKKIT_LOCAL_BASE_DIR": str(WORKDIR)}


def local(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "stackkit", "local", *args, "staging", "--workdir", str(FOLDER)],
                         cwd=ROOT, env={**os.environ, **ENV}, capture_output=True, text=True, timeout=timeout)
    print(out.stdout[-3000:], out.stderr[-3000:])
    return out


def answers(url: str, timeout: float = 180) -> int:
    deadline, status = time.monotonic() + timeout, 0
    while time.monotonic() < deadline and status != 200:
        try:
            with urllib.request.urlopen(url, timeout=20) as r:
                status = r.status
        except OSError:
            time.sleep(3)
    return status


@pytest.fixture(scope="module")
def staging():  # type: ignore[no-untyped-def]
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    subprocess.run([sys.executable, "-m", "stackkit", "local", "down", "staging", "--force", "--workdir", str(FOLDER)],
                   cwd=ROOT, env={**os.environ, **ENV}, capture_output=True, timeout=600)
    t0 = time.monotonic()
    up = local("up", "--app", "site=examples/site")
    assert up.returncode == 0, up.stderr[-3000:]
    yield {"up": up, "seconds": round(time.monotonic() - t0, 1)}
    local("down", "--purge")


def test_local_up_prints_the_url_it_serves(staging) -> None:  # type: ignore[no-untyped-def]
    urls = [line.split(" ", 1)[1] for line in staging["up"].stdout.splitlines() if line.startswith("serving: ")]
    print(f"\nfigure local_up_staging_seconds: {staging['seconds']}")
    assert len(urls) == 1 and urls[0].startswith("http://10.219.0.")
    assert answers(urls[0]) == 200


def test_local_status_lists_the_running_machine(staging) -> None:  # type: ignore[no-untyped-def]
    out = local("status")
    assert out.returncode == 0
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("stage1")]
    assert len(rows) == 1 and rows[0][3:] == ["running", "ssh", "ok"], out.stdout


def test_a_second_up_runs_no_script(staging) -> None:  # type: ignore[no-untyped-def]
    out = local("up")
    assert out.returncode == 0
    assert "0 resource operations" in out.stdout, out.stdout[-2000:]


def test_no_secret_of_the_stack_in_plaintext_in_what_the_local_cloud_keeps(staging) -> None:  # type: ignore[no-untyped-def]
    stack = FOLDER / "staging"
    secrets = list(json.loads((stack / "secrets.json").read_text()).values())
    secrets.append((stack / "ssh" / "id_ed25519").read_text())
    assert len(secrets) >= 2
    kept = [stack / "state", stack / "cloud" / "records.json", stack / "project"]
    texts = []
    for place in kept:
        files = [place] if place.is_file() else [p for p in place.rglob("*") if p.is_file()]
        texts += [(p, p.read_text(errors="replace")) for p in files]
    assert texts
    leaks = [(str(p), s[:8]) for p, text in texts for s in secrets
             if s.strip() in text or json.dumps(s)[1:-1] in text]
    assert leaks == []
    for sub in ("", "state", "cloud", "project", "ssh"):
        assert (stack / sub).stat().st_mode & 0o077 == 0, f"{stack / sub} is private"
    assert (stack / "cloud" / "records.json").stat().st_mode & 0o777 == 0o600


def test_down_keeps_the_protected_volumes_and_up_takes_them_back(staging) -> None:  # type: ignore[no-untyped-def]
    cloud = Cloud(FOLDER / "staging" / "cloud")
    volumes = {i for i, r in cloud.records().items() if r["type"] == "aws:ebs/volume:Volume"}
    assert volumes
    data = {i: sorted(p.relative_to(cloud.volume_dir(i)).as_posix() for p in cloud.volume_dir(i).rglob("*.fs"))
            for i in volumes}
    assert any(data.values()), data
    down = local("down")
    assert down.returncode == 0 and "kept for the next `up`" in down.stdout
    assert not [r for r in cloud.records().values() if r["type"] == "aws:ec2/instance:Instance"]
    assert {i for i, r in cloud.records().items() if r["type"] == "aws:ebs/volume:Volume"} == volumes
    up = local("up")
    assert up.returncode == 0, up.stderr[-3000:]
    urls = [line.split(" ", 1)[1] for line in up.stdout.splitlines() if line.startswith("serving: ")]
    assert answers(urls[0]) == 200
    for i, files in data.items():
        assert sorted(p.relative_to(cloud.volume_dir(i)).as_posix() for p in cloud.volume_dir(i).rglob("*.fs")) \
            == files, i
