"""The staging stack on the real engine with real machines: the stand-in aws provider boots a Debian machine,
pulumi-command's real provider runs the lifecycle over SSH. Needs root, systemd-nspawn and pulumi-command's provider
(not buildable from the module proxy: docs/engine.md); skipped, with that reason, where the provider is missing.

Checked: the site answers through the frontend; no secret of the stack in the checkpoint; a second `up` runs nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from stackkit.engine.localstack import LocalStack
from stackkit.engine.toolchain import ROOT, command_provider, engine_bin
from stackkit.local import gitserve
from stackkit.local.machines import Fleet

pytestmark = [pytest.mark.e2e, pytest.mark.engine]
BRIDGE, SUBNET = "skbr6", "10.219.0.0/24"
BASE = Path(os.environ.get("STACKKIT_LOCAL_DIR", "/var/tmp/stackkit-local"))


def _skip_reason() -> str | None:
    if os.uname().sysname != "Linux" or os.geteuid() != 0:
        return "machines need Linux and root"
    if shutil.which("systemd-nspawn") is None:
        return "systemd-nspawn is missing: run scripts/setup as root"
    folder = engine_bin()
    path = os.pathsep.join(([str(folder)] if folder else []) + [os.environ.get("PATH", "")])
    if command_provider(path) is None:
        return ("pulumi-command's provider (pulumi-resource-command 1.2.1) is not available: the Go module proxy does "
                "not serve github.com/pulumi/pulumi-command/provider (docs/engine.md)")
    return None


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    wd = tmp_path_factory.mktemp("local-engine")
    fleet = Fleet(wd / "cloud" / "fleet", bridge=BRIDGE, subnet=SUBNET, base_dir=BASE)
    fleet.ensure_host()
    fleet.base_tree()
    gitserve.serve(wd, fleet.gateway)
    tag = gitserve.publish("site", ROOT / "examples/site", wd)
    key = wd / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    ls = LocalStack(ROOT / "Pulumi.staging.yaml", wd, machines={"bridge": BRIDGE, "subnet": SUBNET, "base_dir": str(BASE)},
                    change={"apps.site.source": {"type": "git", "url": f"git://{fleet.gateway}/site.git",
                                                 "revision": tag}},
                    ssh_key=(key.with_suffix(".pub").read_text(), key.read_text()))
    engine = ls.prepare()
    up = ls.run(engine, "up", "--yes", "--skip-preview", check=False, timeout=1200)
    assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-2000:]
    yield ls, engine
    for m in fleet.status():
        fleet.destroy(m.name)
    gitserve.stop(wd)
    fleet.teardown()


def test_the_site_answers_through_the_frontend(staging) -> None:  # type: ignore[no-untyped-def]
    ls, engine = staging
    addresses = json.loads(ls.run(engine, "stack", "output", "instances", "--json").stdout)
    with urllib.request.urlopen(f"http://{addresses['stage1']['address']}/", timeout=20) as r:
        assert r.status == 200


def test_no_secret_of_the_stack_in_the_checkpoint(staging) -> None:  # type: ignore[no-untyped-def]
    ls, engine = staging
    text = ls.state_text(engine)
    values = ls.secret_values()
    assert len(values) >= 2
    assert [v[:8] for v in values if v in text or json.dumps(v)[1:-1] in text] == []


def test_a_second_up_runs_nothing(staging) -> None:  # type: ignore[no-untyped-def]
    ls, engine = staging
    preview = json.loads(ls.run(engine, "preview", "--json").stdout)
    assert {k: v for k, v in preview["changeSummary"].items() if k != "same"} == {}
