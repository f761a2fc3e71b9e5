"""SSH host keys on real machines: each machine answers with the one host key its user data gave it, every command's
connection pins exactly that key, and pulumi-command's provider refuses a machine that presents another: the update
fails at that command and nothing reaches the machine."""

from __future__ import annotations

import subprocess

import pytest

from stackkit.cluster.hostkeys import derive
from stackkit.console.model import is_secret, revealed
from stackkit.local.stack import UpFailed
from tests.e2e.conftest import Cluster

pytestmark = pytest.mark.e2e


def offered(address: str) -> set[str]:
    scanned = subprocess.run(["ssh-keyscan", "-T", "5", address], capture_output=True, text=True, timeout=30).stdout
    return {" ".join(line.split()[1:3]) for line in scanned.splitlines() if line and not line.startswith("#")}


def test_each_machine_offers_only_the_key_its_connections_pin(cluster: Cluster) -> None:
    state = cluster.ls.export()
    commands = cluster.outputs()["commands"]
    pins: dict[str, set[str]] = {}
    for r in state["resources"]:
        if r["type"] == "command:remote:Command":
            instance = commands[r["urn"].rsplit("::", 1)[-1]]["instance"]
            connection = r["inputs"]["connection"]      # a secret as a whole once an update rewrote it
            connection = revealed(connection) if is_secret(connection) else connection
            pins.setdefault(instance, set()).add(connection["hostKey"])
    assert set(pins) == set(cluster.config["stackkit:instances"])
    for instance, keys in pins.items():
        assert len(keys) == 1, (instance, keys)
        assert offered(cluster.address(instance)) == keys == {cluster.host_key(instance)}


def test_a_machine_with_another_key_is_refused_and_nothing_reaches_it(cluster: Cluster) -> None:
    """web1's pin set to a key web1 does not have: its commands' connections change, pulumi-command dials, sees
    web1's real key and refuses; nothing ran there (web1's runs journal is unchanged)."""
    journal = "ls -l --time-style=+%s /etc/stackkit/applied/; cat /etc/stackkit/applied/*.json"
    before = cluster.sh("web1", journal).stdout
    other = derive(cluster.ls.secret("stackkit:stack.ssh_private_key"), "e2e", "someone-else")
    cluster.config["stackkit:instances"]["web1"]["host_key"] = other.public
    try:
        with pytest.raises(UpFailed) as refused:
            cluster.up()
        message = str(refused.value)
        assert "web1-" in message and ("host key" in message or "handshake failed" in message), message
    finally:
        del cluster.config["stackkit:instances"]["web1"]["host_key"]
    assert cluster.sh("web1", journal).stdout == before
    report = cluster.up()       # the pin back: its connections as they were; their jobs unchanged, nothing runs
    assert report.ran() == set()
