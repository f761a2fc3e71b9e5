"""The local cloud's bridge keeps one MAC while machines come and go.

Found in a CI run: one request through the frontend timed out while the scaling function stopped and started a
machine. Linux gives a bridge without an address of its own the lowest MAC among its ports; when the machine that had
it stopped, the bridge's MAC changed, and the other machines' ARP entries for the host named a MAC no port answered
until they were resolved again (the kernel sends no gratuitous ARP by default). Fleet.ensure_host pins it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stackkit.local.machines import Fleet, bridge_mac

BRIDGE, SUBNET = "skbrt7", "10.217.0.0/24"
LOWER = "02:00:00:00:00:01"          # lower than any MAC bridge_mac gives (its second byte is a hash byte)


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def mac(dev: str) -> str:
    return Path(f"/sys/class/net/{dev}/address").read_text().strip()


def test_the_bridge_mac_is_locally_administered_unicast_and_one_per_bridge_name() -> None:
    for name in ("skbr0", "skbr1", BRIDGE):
        first = int(bridge_mac(name).split(":")[0], 16)
        assert first & 0b10 and not first & 0b01, bridge_mac(name)
        assert bridge_mac(name) == bridge_mac(name)
    assert len({bridge_mac(n) for n in ("skbr0", "skbr1", BRIDGE)}) == 3


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    if os.geteuid() != 0:
        pytest.skip("a bridge needs root")
    f = Fleet(tmp_path, bridge=BRIDGE, subnet=SUBNET)
    yield f
    ip("link", "del", "skvt7", check=False)
    f.teardown()


@pytest.mark.parametrize("made_by_an_earlier_version", [False, True])
def test_a_port_with_a_lower_mac_joining_and_leaving_leaves_the_bridge_mac_alone(fleet: Fleet,
                                                                                   made_by_an_earlier_version: bool
                                                                                   ) -> None:
    if made_by_an_earlier_version:            # a bridge with no address of its own, as stackkit made it before
        ip("link", "add", BRIDGE, "type", "bridge")
    fleet.ensure_host()
    assert mac(BRIDGE) == bridge_mac(BRIDGE)
    ip("link", "add", "skvt7", "address", LOWER, "type", "veth", "peer", "name", "skvt7p")
    ip("link", "set", "skvt7", "master", BRIDGE)
    assert mac(BRIDGE) == bridge_mac(BRIDGE), "a machine starting changed the bridge's MAC"
    ip("link", "del", "skvt7")
    assert mac(BRIDGE) == bridge_mac(BRIDGE), "a machine stopping changed the bridge's MAC"
