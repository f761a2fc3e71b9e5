"""Connection changes on real machines, under traffic through the frontend: a command whose connection changes (a
new bastion, an Elastic IP, a new SSH key pair) is updated by pulumi-command, and its update runs nothing
(stackkit.lifecycle.host's --if-changed); a delete still runs with the connection the state holds, which is the
current one. Each step: 0 failed requests, and the ZEO data written earlier is still there.

Runs after test_cluster.py's converge and its first changes (the probe object written through app1).
"""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from stackkit.local.stack import UpFailed
from tests.e2e.conftest import COMMAND, Cluster, Traffic, UpReport

pytestmark = pytest.mark.e2e


def under_traffic(cluster: Cluster, key: str) -> UpReport:
    traffic = Traffic(cluster.url())
    traffic.start()
    time.sleep(2)
    report = cluster.up()
    traffic.stop()
    print(f"\nfigure {key}: {{'seconds': {round(report.seconds, 1)}, 'requests': {traffic.sent}, "
          f"'failed': {traffic.failed}}}")
    assert traffic.failed == 0, traffic.errors
    return report


def probe_is_there(cluster: Cluster) -> None:
    with urllib.request.urlopen(cluster.url() + "probe", timeout=30) as r:
        assert r.read().decode() == "hello from app1", "the object written through app1 is still in ZEO"


def private(cluster: Cluster) -> list[str]:
    return sorted(n for n, i in cluster.config["stackkit:instances"].items() if "frontend" not in i["layers"])


def updated_connections(report: UpReport) -> set[str]:
    return {s.name for s in report.changed(COMMAND) if s.op == "update" and set(s.diffs) == {"connection"}}


def test_a_public_instance_that_sorts_first_does_not_move_the_bastion(cluster: Cluster) -> None:
    assert cluster.outputs()["bastion"] == "web1"
    cluster.config["stackkit:instances"]["web0"] = {"layers": ["frontend"]}
    report = under_traffic(cluster, "add_web0")
    assert cluster.outputs()["bastion"] == "web1", "the bastion stays where it was"
    assert {i for i, _, _ in report.ran()} == {"web0"}, "nothing runs again on the survivors"
    assert [s for s in report.changed(COMMAND) if not s.name.startswith("web0-")] == []
    probe_is_there(cluster)


def test_moving_the_bastion_updates_connections_and_runs_nothing(cluster: Cluster) -> None:
    cluster.config["stackkit:stack"].setdefault("network", {})["bastion"] = "web0"
    report = under_traffic(cluster, "bastion_to_web0")
    assert cluster.outputs()["bastion"] == "web0"
    moved = updated_connections(report)
    assert {c.split("-", 1)[0] for c in moved} == set(private(cluster)), moved
    assert report.ran() == set(), "a connection-only update runs no script"
    unchanged = [r for r in report.runs if r.result == "unchanged"]
    assert {r.command for r in unchanged} == moved, "each one reached its instance through web0 and stopped there"
    # the choice is kept when it is no longer explicit: the last deployment's bastion, while it is public
    del cluster.config["stackkit:stack"]["network"]["bastion"]
    report = cluster.up()
    assert cluster.outputs()["bastion"] == "web0" and report.changed(COMMAND) == []
    probe_is_there(cluster)


def test_removing_the_bastion_moves_it_and_its_shutdown_still_runs(cluster: Cluster) -> None:
    del cluster.config["stackkit:instances"]["web0"]
    report = under_traffic(cluster, "remove_web0_the_bastion")
    assert cluster.outputs()["bastion"] == "web1"
    assert ("web0", "shutdown", "delete") in report.ran(), "web0's shutdown ran, with the connection of the state"
    assert {i for i, e, _ in report.ran() if e != "shutdown"} == set()
    probe_is_there(cluster)


def _keypair(folder: Path, name: str) -> tuple[Path, str, str]:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, key.with_suffix(".pub").read_text().strip(), key.read_text()


def test_rotating_the_stack_key_pair_keeps_every_instance(cluster: Cluster, tmp_path: Path) -> None:
    old_key = cluster.ls.workdir / "ssh" / "id_ed25519"
    old_public = cluster.ls.ssh_key[0] if cluster.ls.ssh_key else ""
    new_key, new_public, new_private = _keypair(tmp_path, "id_new")
    instances = sorted(cluster.config["stackkit:instances"])
    ids = {i: cluster.machine(i) for i in instances}
    stack = cluster.config["stackkit:stack"]

    # switching first is refused before anything runs: no instance authorizes the new key yet
    cluster.ls.ssh_key = (new_public, new_private)
    with pytest.raises(UpFailed) as refused:
        cluster.up()
    assert "stack.ssh_public_key: a new key pair" in str(refused.value)
    assert "stack.ssh_authorized_keys" in str(refused.value)
    cluster.ls.ssh_key = (old_public, old_key.read_text())

    # 1. authorize the new key on every instance (the users steps, with the old key)
    stack["ssh_authorized_keys"] = [new_public]
    report = under_traffic(cluster, "rotate_1_authorize")
    assert report.ran() == {(i, "users", "update") for i in instances}
    # 2. switch: every connection changes, nothing runs, the key pair is replaced and no instance is
    cluster.ls.ssh_key = (new_public, new_private)
    stack["ssh_authorized_keys"] = [old_public]
    report = under_traffic(cluster, "rotate_2_switch")
    assert report.ran() == set()
    assert {s.op for s in report.changed("aws:ec2/keyPair:KeyPair")} >= {"create-replacement", "delete-replaced"}
    assert report.changed("aws:ec2/instance:Instance") == []
    assert {i: cluster.machine(i) for i in instances} == ids
    # 3. the old key goes
    stack["ssh_authorized_keys"] = []
    report = under_traffic(cluster, "rotate_3_remove_old")
    assert report.ran() == {(i, "users", "update") for i in instances}

    for i in instances:
        assert cluster.sh(i, "id -un", key=new_key).stdout == "root", i
        refused_old = cluster.sh(i, "true", key=old_key)
        assert refused_old.exit_code == 255 and "Permission denied" in refused_old.stderr, (i, refused_old.stderr)
    probe_is_there(cluster)
    # the cluster's own SSH from here on uses the new key
    old_key.write_text(new_private)
    old_key.with_suffix(".pub").write_text(new_public + "\n")
    assert cluster.up().ran() == set()
