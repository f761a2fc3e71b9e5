"""The local cloud's records and machines.

Everything the stand-in creates is recorded in `<cloud>/records.json` (id -> type and properties), so one resource
can find another (an instance its key pair's public key, an attachment its volume). Three types do something on this
host, when `<cloud>/machines.json` says machines are on (`stackkit local` writes it; without it everything is
recorded only, which is all a preview or an AWS-side test needs):

- aws:ec2/instance:Instance   a Debian 12 machine (stackkit.local.machines.Fleet), its address on the bridge as both
                              private and public IP, the key pair's public key as the admin user's authorized key,
                              the SSH host key its user data's cloud-config installs (cloud-init's ssh_keys)
- aws:ebs/volume:Volume       a folder `<cloud>/fleet/volumes/<vol-id>` that outlives machines
- aws:ec2/volumeAttachment    the volume as the machine's device: /etc/stackkit/local-devices/<xvdX> -> the folder
                              (the setup bundle's sk_mount bind-mounts it); delete stops the machine first
                              (stop_instance_before_detaching), as EC2 does
- aws:ec2/eipAssociation      the Elastic IP (an address on the bridge) added to the machine's interface
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackkit.cluster.hostkeys import from_cloud_config
from stackkit.errors import LocalError

ACCOUNT = "123456789012"
_lock = threading.RLock()


@dataclass(frozen=True)
class MachineSettings:
    bridge: str
    subnet: str
    base_dir: str | None = None     # where the Debian base tree is kept (shared by clouds)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


class Cloud:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.records_file = folder / "records.json"
        self.settings_file = folder / "machines.json"

    # --- records ---------------------------------------------------------------------------------------------------
    def records(self) -> dict[str, dict[str, Any]]:
        if not self.records_file.exists():
            return {}
        return json.loads(self.records_file.read_text())

    def put(self, id_: str, type_: str, props: dict[str, Any]) -> None:
        with _lock:
            recs = self.records()
            recs[id_] = {"type": type_, "props": props}
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.records_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(recs, indent=1, sort_keys=True))
            os.replace(tmp, self.records_file)

    def drop(self, id_: str) -> None:
        with _lock:
            recs = self.records()
            if recs.pop(id_, None) is not None:
                tmp = self.records_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(recs, indent=1, sort_keys=True))
                os.replace(tmp, self.records_file)

    def find(self, type_: str, **match: Any) -> tuple[str, dict[str, Any]] | None:
        for id_, rec in self.records().items():
            if rec["type"] == type_ and all(rec["props"].get(k) == v for k, v in match.items()):
                return id_, rec["props"]
        return None

    def get(self, id_: str) -> dict[str, Any] | None:
        rec = self.records().get(id_)
        return rec["props"] if rec else None

    # --- machines --------------------------------------------------------------------------------------------------
    def machine_settings(self) -> MachineSettings | None:
        if not self.settings_file.exists():
            return None
        data = json.loads(self.settings_file.read_text())
        return MachineSettings(bridge=data["bridge"], subnet=data["subnet"], base_dir=data.get("base_dir"))

    def fleet(self) -> Any:
        from stackkit.local.machines import Fleet
        s = self.machine_settings()
        assert s is not None
        return Fleet(self.folder / "fleet", bridge=s.bridge, subnet=s.subnet,
                     base_dir=Path(s.base_dir) if s.base_dir else None)

    def allocate_address(self) -> str:
        """A free host address on the bridge: .10 upwards (.1 is the bridge), not held by a machine or an EIP."""
        s = self.machine_settings()
        assert s is not None
        with _lock:
            used = {p.get("privateIp") for p in (r["props"] for r in self.records().values())}
            used |= {p.get("publicIp") for p in (r["props"] for r in self.records().values())}
            used |= self._reserved()
            for host in list(ipaddress.ip_network(s.subnet).hosts())[9:]:
                if str(host) not in used:
                    self._reserve(str(host))
                    return str(host)
        raise LocalError(f"the local cloud's subnet {s.subnet} has no free address left")

    def _reserved(self) -> set[str]:
        f = self.folder / "reserved.json"
        return set(json.loads(f.read_text())) if f.exists() else set()

    def _reserve(self, address: str) -> None:
        f = self.folder / "reserved.json"
        f.write_text(json.dumps(sorted(self._reserved() | {address})))

    def release(self, address: str) -> None:
        with _lock:
            f = self.folder / "reserved.json"
            f.write_text(json.dumps(sorted(self._reserved() - {address})))

    def boot(self, instance_id: str, address: str, hostname: str, public_key: str, user_data: str | None) -> None:
        self.fleet().boot(instance_id, address, hostname=hostname, authorized_key=public_key,
                          host_key=from_cloud_config(user_data))

    def terminate(self, instance_id: str) -> None:
        self.fleet().destroy(instance_id)

    def stop(self, instance_id: str) -> None:
        self.fleet().stop(instance_id)

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

    def add_address(self, instance_id: str, address: str, add: bool = True) -> None:
        """An Elastic IP: the address on the machine's interface (its network namespace is its leader's)."""
        fleet = self.fleet()
        pid = fleet.leader_pid(instance_id)
        if pid is None:
            if add:
                raise LocalError(f"{instance_id}: the machine is not running; cannot associate {address}")
            return
        prefix = ipaddress.ip_network(fleet.subnet).prefixlen
        op = "add" if add else "del"
        out = subprocess.run(["nsenter", "-t", str(pid), "-n", "ip", "addr", op, f"{address}/{prefix}", "dev", "host0"],
                             capture_output=True, text=True)
        if out.returncode != 0 and "File exists" not in out.stderr and add:
            raise LocalError(f"{instance_id}: could not add {address}: {out.stderr.strip()}")
