"""An imported OpsWorks stack converges on machines: `stackkit import opsworks --cloudformation` writes a project from
tests/opsworks_import/templates/converge.yaml (a custom layer with packages, a volume, an auto-assigned Elastic IP,
one instance, one user's SSH key), and `stackkit local up --config <project>/Pulumi.<stack>.yaml` brings it up under
Pulumi's engine: the layer's packages installed, the volume mounted at its OpsWorks mount point and backed by the
cloud's volume, the user able to log in with the imported key, node.json carrying the stack's OpsWorks name and
custom JSON; a second `up` does nothing.

Its own bridge and folder (STACKKIT_LOCAL_*), beside the e2e cluster's; the Debian base tree is the e2e one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackkit.local.aws.cloud import Cloud
from stackkit.paths import ROOT
from tests.e2e.conftest import WORKDIR, _skip_reason

pytestmark = pytest.mark.e2e
TEMPLATE = ROOT / "tests/opsworks_import/templates/converge.yaml"
FOLDER = Path("/var/tmp/stackkit-e2e-imported")
STACK = "imported"
ENV = {"STACKKIT_LOCAL_BRIDGE": "skbr8", "STACKKIT_LOCAL_SUBNET": "10.221.0.0/24",
       "STACKKIT_LOCAL_BASE_DIR": str(WORKDIR)}
CAROL = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEdUVRXmpZ7042P5eX7GPJcIt1mZji+vdTC8ckjn6Mff carol@laptop"


def stackkit(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([sys.executable, "-m", "stackkit", *args], cwd=ROOT, env={**os.environ, **ENV},
                         capture_output=True, text=True, timeout=timeout)
    print(out.stdout[-3000:], out.stderr[-3000:])
    return out


@pytest.fixture(scope="module")
def imported() -> Iterator[dict[str, Any]]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    work = Path(tempfile.mkdtemp(prefix="stackkit-imported-"))
    # carol's key: a fresh pair in place of the template's, so the test can log in as her
    key = work / "carol"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "carol@test", "-f", str(key)], check=True)
    text = TEMPLATE.read_text()
    assert CAROL in text
    template = work / "template.yaml"
    template.write_text(text.replace(CAROL, (work / "carol.pub").read_text().strip()))
    project = work / "project"
    out = stackkit("import", "opsworks", "--cloudformation", str(template), "--stack", STACK, "--out", str(project))
    assert out.returncode == 0, out.stderr[-3000:]
    config = project / f"Pulumi.{STACK}.yaml"
    assert config.is_file(), sorted(p.name for p in project.iterdir())
    local = ["--config", str(config), "--workdir", str(FOLDER)]
    stackkit("local", "down", *local, "--force", timeout=600)
    t0 = time.monotonic()
    up = stackkit("local", "up", *local)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
    yield {"project": project, "local": local, "carol": key, "seconds": round(time.monotonic() - t0, 1)}
    stackkit("local", "down", *local, "--purge", timeout=900)


def cloud() -> Cloud:
    return Cloud(FOLDER / STACK / "cloud")


def instance() -> tuple[str, str]:
    """The imported instance's machine (its EC2 id) and private address."""
    machines = [(i, r["props"]) for i, r in cloud().records().items() if r["type"] == "aws:ec2/instance:Instance"]
    assert len(machines) == 1, machines
    return machines[0][0], str(machines[0][1]["privateIp"])


def sh(script: str, user: str = "admin", key: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`script` on the imported instance over SSH as `user`, its host key pinned."""
    machine, address = instance()
    with tempfile.TemporaryDirectory() as tmp:
        known = Path(tmp) / "known_hosts"
        known.write_text(f"{address} {cloud().fleet().host_key(machine)}\n")
        return subprocess.run(
            ["ssh", "-i", str(key or FOLDER / STACK / "ssh" / "id_ed25519"), "-o", "IdentitiesOnly=yes",
             "-o", f"UserKnownHostsFile={known}", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
             "-o", "ConnectTimeout=10", f"{user}@{address}", script],
            capture_output=True, text=True, timeout=120)


def test_the_imported_stack_converges_with_its_layer_packages_volume_and_user(imported: dict[str, Any]) -> None:
    print(f"\nfigure imported_local_up_seconds: {imported['seconds']}")
    out = sh("dpkg-query -W -f '${Package} ${Status}\\n' jq tree; hostname; "
             "sudo cat /etc/stackkit/node.json; findmnt -n -o TARGET /srv/data")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["jq install ok installed", "tree install ok installed"], out.stdout
    assert lines[2] == "notes1"
    node = json.loads("\n".join(lines[3:-1]))
    assert node["opsworks"]["stack"]["name"] == "notes-staging"
    assert node["notes"] == {"greeting": "hello"}
    assert lines[-1] == "/srv/data"


def test_the_volume_is_the_clouds_volume(imported: dict[str, Any]) -> None:
    marker = f"written at {time.time():.0f}"
    assert sh(f"echo '{marker}' | sudo tee /srv/data/probe >/dev/null").returncode == 0
    volumes = [i for i, r in cloud().records().items() if r["type"] == "aws:ebs/volume:Volume"]
    assert len(volumes) == 1
    assert (cloud().volume_dir(volumes[0]) / "probe").read_text().strip() == marker


def test_the_imported_user_logs_in_with_the_imported_key(imported: dict[str, Any]) -> None:
    out = sh("id -un; hostname", user="carol", key=imported["carol"])
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["carol", "notes1"]


def test_a_second_up_does_nothing(imported: dict[str, Any]) -> None:
    out = stackkit("local", "up", *imported["local"])
    assert out.returncode == 0, out.stderr[-3000:]
    assert "0 resource operations" in out.stdout, out.stdout[-2000:]
