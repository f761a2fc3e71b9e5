"""SSH host keys on real machines: a machine answers with the one host key it was given, the runner's SSH accepts
exactly the pinned key and refuses any other (as pulumi-command does with `hostKey`), and the stack's machines carry
the key their user data installs, the one every command connection pins."""

from __future__ import annotations

import ipaddress
import subprocess

import pytest

from stackkit.cluster.hostkeys import derive, from_cloud_config
from stackkit.errors import LocalError
from stackkit.local.ssh import SSH_FAILED, run_remote
from stackkit.local.state import LocalState
from tests.e2e.conftest import Cluster

pytestmark = pytest.mark.e2e

PROBE = "hostkey-probe"


@pytest.fixture
def probe(cluster: Cluster):  # type: ignore[no-untyped-def]
    """One machine booted with a derived host key, beside the cluster's, at the subnet's last address."""
    key = derive(cluster.fleet.private_key, "e2e", PROBE)
    address = str(list(ipaddress.ip_network(cluster.fleet.subnet).hosts())[-1])
    cluster.fleet.boot(PROBE, address, host_key=key)
    yield address, key
    cluster.fleet.destroy(PROBE)


def _connection(cluster: Cluster, address: str, host_key: str | None) -> dict:
    conn = {"host": address, "user": "admin", "privateKey": cluster.fleet.private_key, "dialErrorLimit": 3}
    if host_key:
        conn["hostKey"] = host_key
    return conn


def test_the_pinned_key_is_accepted_and_any_other_refused(cluster: Cluster, probe: tuple) -> None:
    address, key = probe
    assert run_remote(_connection(cluster, address, key.public), "cat /etc/ssh/ssh_host_*.pub").stdout == key.public
    other = derive(cluster.fleet.private_key, "e2e", "someone-else")
    with pytest.raises(LocalError) as refused:
        run_remote(_connection(cluster, address, other.public), "touch /tmp/reached", "a bundle with secrets")
    message = str(refused.value)
    assert f"exited {SSH_FAILED}" in message
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in message or "Host key verification failed" in message
    # nothing ran: the command never reached the machine
    assert run_remote(_connection(cluster, address, key.public), "test -e /tmp/reached || echo absent").stdout == "absent"


def test_openssh_sees_only_the_installed_key(cluster: Cluster, probe: tuple) -> None:
    address, key = probe
    scanned = subprocess.run(["ssh-keyscan", "-T", "5", address], capture_output=True, text=True, timeout=30).stdout
    offered = {" ".join(line.split()[1:3]) for line in scanned.splitlines() if line and not line.startswith("#")}
    assert offered == {key.public}


def test_the_stack_machines_carry_the_key_their_connections_pin(cluster: Cluster) -> None:
    cluster.up()     # converged by test_cluster.py already: nothing to do then
    state = LocalState.load(cluster.state_path, stack="e2e")
    plan, _ = cluster.runner().plan(state)       # the program as the runner evaluates it, at the machines' addresses
    pins = {}
    for r in plan.of_type("aws:ec2/instance:Instance"):
        installed = from_cloud_config(r.secret_inputs["userData"])
        assert installed is not None
        pins[r.name] = installed.public
    assert pins and set(pins) == set(state.machines)
    for instance, machine in state.machines.items():
        assert cluster.fleet.host_key(machine) == pins[instance]
    for r in plan.of_type("command:remote:Command"):
        conn = r.secret_inputs["connection"]
        assert conn["hostKey"] in pins.values()
        machine = next(m for m, a in state.addresses.items() if a == conn["host"])
        assert cluster.fleet.host_key(machine) == conn["hostKey"], r.name
