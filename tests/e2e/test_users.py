"""End to end, per-user SSH and sudo (stackkit:users) on the converged cluster of test_cluster.py: adding users runs
only the users steps; alice (sudo) logs in and sudo works, bob (no sudo) logs in and sudo is refused; alice removed
cannot log in and keeps her home; with no user left, every users step is deleted and locks its users.

Runs after test_cluster.py's converge (pytest orders the modules by name); alone:
    .venv/bin/pytest -q -x tests/e2e/test_cluster.py::test_converge tests/e2e/test_users.py
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import Cluster, UpReport

pytestmark = pytest.mark.e2e
def instances(cluster: Cluster) -> list[str]:
    """The cluster's instances as the earlier modules left them (test_cluster.py adds, removes and replaces some)."""
    return sorted(cluster.config["stackkit:instances"])


def ran(report: UpReport) -> set[tuple[str, str, str]]:
    return report.ran()


def keypair(folder: Path, user: str) -> tuple[Path, str]:
    key = folder / f"id_{user}"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{user}@e2e", "-f", str(key)], check=True)
    return key, (folder / f"id_{user}.pub").read_text().strip()


def ssh_as(cluster: Cluster, folder: Path, user: str, key: Path, command: str) -> subprocess.CompletedProcess:
    """`command` on web1 as `user` with `key`, checking web1's pinned host key."""
    return subprocess.run([*cluster.ssh_argv("web1", folder / "known_hosts.web1", user, key), command],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("users")
    return {u: keypair(folder, u) for u in ("alice", "bob")}


def test_users_get_access_and_only_the_users_steps_run(cluster: Cluster, keys: dict[str, tuple[Path, str]]) -> None:
    cluster.config["stackkit:users"] = {
        "alice": {"ssh_public_key": keys["alice"][1], "sudo": True, "layers": ["frontend"]},
        "bob": {"ssh_public_key": keys["bob"][1]},
    }
    # every instance has a users step (the deploy user's keys): it runs again where a user comes
    expected = {(i, "users", "update") for i in instances(cluster)}
    assert cluster.predicted() == expected
    assert ran(cluster.up()) == expected
    folder = keys["alice"][0].parent
    alice = ssh_as(cluster, folder, "alice", keys["alice"][0], "id -un && sudo -n true && echo sudo-ok")
    assert alice.returncode == 0, alice.stderr
    assert alice.stdout.split() == ["alice", "sudo-ok"]
    bob = ssh_as(cluster, folder, "bob", keys["bob"][0], "id -un; sudo -n true")
    assert bob.stdout.split() == ["bob"]
    assert bob.returncode != 0 and "password is required" in bob.stderr, bob.stderr
    # bob on a private instance too; alice only where her layer is
    on_app1 = cluster.sh("app1", "stat -c '%U %a' /home/bob/.ssh/authorized_keys; id alice 2>&1 || true")
    assert on_app1.stdout.splitlines()[0] == "bob 600", on_app1.stdout
    assert "no such user" in on_app1.stdout
    sudoers = cluster.sh("web1", "stat -c '%U %a' /etc/sudoers.d/stackkit-alice; cat /etc/sudoers.d/stackkit-alice; "
                                 "test ! -e /etc/sudoers.d/stackkit-bob && echo no-bob; cat /etc/stackkit/users.json")
    lines = sudoers.stdout.splitlines()
    assert lines[:3] == ["root 440", "alice ALL=(ALL) NOPASSWD:ALL", "no-bob"], sudoers.stdout
    assert lines[3] == '{"managed": ["alice","bob"], "active": ["alice","bob"]}'
    # an unchanged config runs nothing
    assert cluster.predicted() == set()


def test_a_removed_user_is_locked_and_keeps_her_home(cluster: Cluster, keys: dict[str, tuple[Path, str]]) -> None:
    del cluster.config["stackkit:users"]["alice"]
    assert ran(cluster.up()) == {("web1", "users", "update")}
    folder = keys["alice"][0].parent
    alice = ssh_as(cluster, folder, "alice", keys["alice"][0], "true")
    assert alice.returncode == 255 and "Permission denied" in alice.stderr, (alice.returncode, alice.stderr)
    state = cluster.sh("web1", "test -d /home/alice && echo home; test -e /home/alice/.ssh/authorized_keys || echo "
                               "no-keys; test -e /etc/sudoers.d/stackkit-alice || echo no-sudo; "
                               "getent passwd alice | cut -d: -f7; chage -l alice | grep -i 'account expires'")
    lines = state.stdout.splitlines()
    assert lines[:4] == ["home", "no-keys", "no-sudo", "/usr/sbin/nologin"], state.stdout
    assert "1970" in lines[4], lines[4]
    bob = ssh_as(cluster, folder, "bob", keys["bob"][0], "id -un")
    assert bob.returncode == 0 and bob.stdout.strip() == "bob"
    # the deploy user is untouched (cluster.sh logs in as it)
    assert cluster.sh("web1", "id -un").stdout.strip() == "root"


def test_with_no_user_left_the_users_steps_lock_them(cluster: Cluster, keys: dict[str, tuple[Path, str]]) -> None:
    del cluster.config["stackkit:users"]
    # the users steps stay (the deploy user's keys) and lock every user stackkit created
    assert ran(cluster.up()) == {(i, "users", "update") for i in instances(cluster)}
    bob = ssh_as(cluster, keys["bob"][0].parent, "bob", keys["bob"][0], "true")
    assert bob.returncode == 255, (bob.returncode, bob.stderr)
    locked = cluster.sh("app1", "getent passwd bob | cut -d: -f7; test -d /home/bob && echo home")
    assert locked.stdout.split() == ["/usr/sbin/nologin", "home"]
