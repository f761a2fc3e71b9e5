"""The local cloud's records, and what its instances are.

Everything the stand-in creates is recorded in `<cloud>/records.json` (id -> type and properties, every secret
replaced by values.REDACTED; 0600 in a 0700 folder), so one resource can find another (an instance its key pair's
public key, an attachment its volume) and `stackkit local schedule|scale` can read the schedules and the scaling
function. `<cloud>/cloud.json` says what instances are (`stackkit.local.stack` writes it):

- {"mode": "machines", bridge, subnet, base_dir}: Debian 12 machines on this host (stackkit.local.machines.Fleet):
    aws:ec2/instance:Instance    a machine, its address on the bridge as both private and public IP, the key pair's
                                 public key as the admin user's authorized key, the SSH host key its user data's
                                 cloud-config installs (cloud-init's ssh_keys)
    aws:ebs/volume:Volume        a folder `<cloud>/fleet/volumes/<vol-id>` that outlives machines
    aws:ec2/volumeAttachment     the volume as the machine's device: /etc/stackkit/local-devices/<xvdX> -> the folder
                                 (the setup bundle's sk_mount bind-mounts it); delete stops the machine first
                                 (stop_instance_before_detaching), as EC2 does
    aws:ec2/eipAssociation       the Elastic IP (an address on the bridge) added to the machine's interface
    aws:cloudwatch/metricAlarm   with EC2's recover action: the machine is watched (stackkit.local.healer)
    aws:lambda/invocation        the wake function's call during an update (stackkit.local.playback.invoke)
- {"mode": "hosts"}: records-only hosts that answer SSH and run nothing (stackkit.local.hosts);
- no file: records only (a preview, or an AWS-only program).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackkit.errors import LocalError
from stackkit.local.files import private_dir, write_private
from stackkit.local.hosts import ADDRESSES, Hosts
from stackkit.local.machines import Fleet

ACCOUNT = "123456789012"
MACHINES, HOSTS = "machines", "hosts"
_lock = threading.RLock()


@dataclass(frozen=True)
class Settings:
    mode: str                       # MACHINES | HOSTS
    bridge: str = ""
    subnet: str = ""
    base_dir: str | None = None     # where the Debian base tree is kept (shared by clouds)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


class Cloud:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.records_file = folder / "records.json"
        self.settings_file = folder / "cloud.json"
        self.hosts = Hosts(folder / "hosts")

    # --- records ---------------------------------------------------------------------------------------------------
    def records(self) -> dict[str, dict[str, Any]]:
        if not self.records_file.exists():
            return {}
        out: dict[str, dict[str, Any]] = json.loads(self.records_file.read_text())
        return out

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, dict[str, Any]]]:
        """The records for one read, change and write (this process's threads and other processes wait)."""
        private_dir(self.folder)
        with _lock, open(self.folder / "records.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            recs = self.records()
            yield recs
            write_private(self.records_file, json.dumps(recs, indent=1, sort_keys=True))

    def put(self, id_: str, type_: str, props: dict[str, Any]) -> None:
        """Record a resource: `props` must already be redacted (values.redacted)."""
        with self._changing() as recs:
            recs[id_] = {"type": type_, "props": props}

    def drop(self, id_: str) -> None:
        with self._changing() as recs:
            recs.pop(id_, None)

    def find(self, type_: str, **match: Any) -> tuple[str, dict[str, Any]] | None:
        for id_, rec in self.records().items():
            if rec["type"] == type_ and all(rec["props"].get(k) == v for k, v in match.items()):
                return id_, rec["props"]
        return None

    def get(self, id_: str) -> dict[str, Any] | None:
        rec = self.records().get(id_)
        return rec["props"] if rec else None

    # --- what instances are ----------------------------------------------------------------------------------------
    def settings(self) -> Settings | None:
        if not self.settings_file.exists():
            return None
        data = json.loads(self.settings_file.read_text())
        return Settings(**data)

    @property
    def mode(self) -> str | None:
        s = self.settings()
        return s.mode if s is not None else None

    def fleet(self) -> Fleet:
        s = self.settings()
        if s is None or s.mode != MACHINES:
            raise LocalError(f"{self.folder}: this local cloud has no machines")
        return Fleet(self.folder / "fleet", bridge=s.bridge, subnet=s.subnet,
                     base_dir=Path(s.base_dir) if s.base_dir else None)

    def allocate_address(self) -> str:
        """A free address: on the machines' bridge (.10 upwards; .1 is the bridge), or a records-only host's loopback
        address; never one a record or another allocation holds."""
        s = self.settings()
        assert s is not None
        network = ipaddress.ip_network(s.subnet) if s.mode == MACHINES else ADDRESSES
        with self._changing() as recs:
            used = {p.get(k) for p in (r["props"] for r in recs.values()) for k in ("privateIp", "publicIp")}
            used |= self._reserved()
            for host in list(network.hosts())[9:]:
                if str(host) not in used:
                    self._reserve(str(host), add=True)
                    return str(host)
        raise LocalError(f"the local cloud's network {network} has no free address left")

    def _reserved(self) -> set[str]:
        f = self.folder / "reserved.json"
        return set(json.loads(f.read_text())) if f.exists() else set()

    def _reserve(self, address: str, add: bool) -> None:
        now = self._reserved()
        write_private(self.folder / "reserved.json", json.dumps(sorted(now | {address} if add else now - {address})))

    def release(self, address: str) -> None:
        with self._changing():
            self._reserve(address, add=False)

    def volume_dir(self, volume_id: str) -> Path:
        return self.folder / "fleet" / "volumes" / volume_id

    def attach(self, instance_id: str, volume_id: str, device: str) -> None:
        fleet = self.fleet()
        self.volume_dir(volume_id).mkdir(parents=True, exist_ok=True)
        devices = fleet.tree(instance_id) / "etc/stackkit/local-devices"
        devices.mkdir(parents=True, exist_ok=True)
        link = devices / device.rsplit("/", 1)[-1]
        link.unlink(missing_ok=True)
        link.symlink_to(f"/mnt/stackkit-volumes/{volume_id}")

    def detach(self, instance_id: str, device: str, stop_first: bool) -> None:
        fleet = self.fleet()
        if stop_first:
            fleet.stop(instance_id)
        (fleet.tree(instance_id) / "etc/stackkit/local-devices" / device.rsplit("/", 1)[-1]).unlink(missing_ok=True)
