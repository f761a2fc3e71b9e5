"""Records-only hosts: the instances of a local cloud without machines, answering SSH and running nothing.

A records-only local stack (no machines: `plan --against`, the documented lifecycle tables) is brought up by the real
engine and the real pulumi-command provider like any other; what differs is what answers at an instance's address.
Here that is an SSH server in the stand-in provider's own process (asyncssh), one per instance, on its address and
port 22, presenting the host key of the instance's user data (as cloud-init would install it, so the commands' pinned
host keys match):

- `exec`: the command's stdin is read to its end and the command exits 0 with no output: nothing runs;
- SFTP (CopyToRemote's upload): into a folder of its own under the cloud (`hosts/<instance id>/home`), nothing else;
- a direct TCP forward (a private instance reached through the bastion, pulumi-command's `proxy`): to the listener of
  another instance of the same cloud only.

Each request is appended to `hosts/<instance id>/log.jsonl` ({command, stdin_bytes}), so a test can see what reached
an instance. The addresses are loopback ones (ADDRESSES); the process that drives the engine runs in a network
namespace of its own (stackkit.local.netns), so port 22 is free and nothing outside can connect.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from pathlib import Path
from typing import Any

import asyncssh

from stackkit.local.files import private_dir, write_private

ADDRESSES = ipaddress.ip_network("127.213.0.0/16")
PORT = 22


class _Server(asyncssh.SSHServer):
    def __init__(self, hosts: Hosts) -> None:
        self.hosts = hosts

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        return True

    def connection_requested(self, dest_host: str, dest_port: int, orig_host: str, orig_port: int) -> bool:
        # only to another instance of this cloud (asyncssh opens the connection itself when True)
        return dest_port == PORT and dest_host in self.hosts.listening


class Hosts:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.listening: dict[str, Any] = {}      # address -> asyncssh server

    def _dir(self, instance_id: str) -> Path:
        return private_dir(private_dir(self.folder) / instance_id)

    def keep_key(self, instance_id: str, address: str, private_key: str) -> None:
        """Keep the instance's host key and address (0600), to answer again after the provider restarts."""
        d = self._dir(instance_id)
        write_private(d / "ssh_host_ed25519_key", private_key)
        write_private(d / "addresses", address)

    def _addresses(self, instance_id: str) -> list[str]:
        f = self.folder / instance_id / "addresses"
        return f.read_text().split() if f.exists() else []

    async def add_address(self, instance_id: str, address: str, add: bool = True) -> None:
        """An Elastic IP associated (or no longer): the instance answers there too."""
        now = self._addresses(instance_id)
        wanted = [*now, address] if add and address not in now else [a for a in now if a != address or add]
        write_private(self._dir(instance_id) / "addresses", " ".join(wanted))
        if not add:
            await self._close(address)
        await self.start(instance_id)

    async def start(self, instance_id: str) -> None:
        d = self._dir(instance_id)
        key = asyncssh.import_private_key((d / "ssh_host_ed25519_key").read_text())
        home = private_dir(d / "home")
        log = d / "log.jsonl"

        async def handle(process: asyncssh.SSHServerProcess) -> None:
            data = await process.stdin.read()
            with log.open("a") as fh:
                fh.write(json.dumps({"command": process.command, "stdin_bytes": len(data)}) + "\n")
            process.exit(0)

        for address in self._addresses(instance_id):
            if address in self.listening:
                continue
            self.listening[address] = await asyncssh.create_server(
                lambda: _Server(self), host=address, port=PORT, server_host_keys=[key], process_factory=handle,
                encoding=None, sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(home).encode()),
                allow_scp=False, agent_forwarding=False, x11_forwarding=False)

    async def _close(self, address: str) -> None:
        server = self.listening.pop(address, None)
        if server is not None:
            server.close()
            await server.wait_closed()

    async def stop(self, instance_id: str) -> None:
        for address in self._addresses(instance_id):
            await self._close(address)

    async def start_all(self) -> None:
        if self.folder.exists():
            for d in sorted(self.folder.iterdir()):
                if (d / "addresses").exists():
                    await self.start(d.name)

    def log(self, instance_id: str) -> list[dict[str, Any]]:
        f = self.folder / instance_id / "log.jsonl"
        return [json.loads(line) for line in f.read_text().splitlines()] if f.exists() else []


async def _forever() -> None:       # pragma: no cover - a manual check: python -m stackkit.local.hosts FOLDER
    import sys
    hosts = Hosts(Path(sys.argv[1]))
    await hosts.start_all()
    await asyncio.Event().wait()


if __name__ == "__main__":          # pragma: no cover
    asyncio.run(_forever())
