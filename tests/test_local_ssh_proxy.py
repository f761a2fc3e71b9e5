"""stackkit local's SSH to a private instance goes through the bastion as pulumi-command's proxy does: the argv it
builds, with each hop's own user, key and pinned host key, and no key file left behind."""

from __future__ import annotations

import shlex
from contextlib import ExitStack
from pathlib import Path

from stackkit.local.ssh import ssh_argv

BASTION_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBastionBastionBastionBastionBastionBastion"
TARGET_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITargetTargetTargetTargetTargetTargetTarget"
CONNECTION = {"host": "10.20.128.5", "user": "admin", "privateKey": "target-key\n", "hostKey": TARGET_KEY,
              "perDialTimeout": 10.0, "dialErrorLimit": 60.0,
              "proxy": {"host": "198.51.100.7", "user": "jump", "privateKey": "bastion-key\n", "hostKey": BASTION_KEY,
                        "port": 2222.0, "perDialTimeout": 5.0}}


def _option(argv: list[str], name: str) -> str:
    return next(argv[i + 1].split("=", 1)[1] for i, a in enumerate(argv) if a == "-o" and argv[i + 1].startswith(name + "="))


def test_a_private_instance_is_reached_through_the_bastion() -> None:
    with ExitStack() as stack:
        argv = ssh_argv(CONNECTION, stack)
        via = shlex.split(_option(argv, "ProxyCommand"))
        files = [argv[argv.index("-i") + 1], via[via.index("-i") + 1],
                 _option(argv, "UserKnownHostsFile"), _option(via, "UserKnownHostsFile")]
        assert argv[-1] == "admin@10.20.128.5" and argv[argv.index("-p") + 1] == "22"
        assert via[0] == "ssh" and via[-3:] == ["jump@198.51.100.7", "-W", "%h:%p"]
        assert via[via.index("-p") + 1] == "2222" and _option(via, "ConnectTimeout") == "5"
        # each hop its own key and its own pinned host key
        assert [Path(f).read_text() for f in files] == ["target-key\n", "bastion-key\n", f"10.20.128.5 {TARGET_KEY}\n",
                                                        f"[198.51.100.7]:2222 {BASTION_KEY}\n"]
        assert _option(argv, "StrictHostKeyChecking") == _option(via, "StrictHostKeyChecking") == "yes"
    assert not any(Path(f).exists() for f in files), "key and known_hosts files are removed"


def test_a_public_instance_is_reached_directly() -> None:
    with ExitStack() as stack:
        argv = ssh_argv({k: v for k, v in CONNECTION.items() if k != "proxy"}, stack)
        assert not [a for a in argv if a.startswith("ProxyCommand")]
        assert argv[-1] == "admin@10.20.128.5"
