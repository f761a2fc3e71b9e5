"""Debian 12 machines on this host with systemd-nspawn: one per stack instance, systemd as PID 1, sshd, its own
address on a private bridge, package access through the host (NAT). The recipe: docs/local.md.

A Fleet keeps its state in `<workdir>/fleet.json` (machines, addresses, pids), so a later process finds the machines
an earlier one booted. Several processes change it at once (the runner, each machine's healer, the schedule and the
scaler): every change is a read, change and write under `<workdir>/fleet.lock` (flock), and the file is replaced
whole (rename), so a reader never sees a half-written file and no writer loses another's change.

Volumes are directories under `<workdir>/volumes/`, bound into every machine at
/mnt/stackkit-volumes; the runner "attaches" one by linking /etc/stackkit/local-devices/<device> to it, and the
lifecycle's sk_mount bind-mounts it at the layer's mount point. They outlive the machines.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stackkit.cluster.hostkeys import HostKey, derive
from stackkit.errors import LocalError
from stackkit.local.files import private_dir

SUITE = "bookworm"
BASE_PACKAGES = ("systemd,systemd-sysv,dbus,openssh-server,iproute2,python3,python3-venv,ca-certificates,curl,sudo,"
                 "procps,less,git")
_STATE_LOCK = threading.Lock()
TOOLS = {"debootstrap": "debootstrap", "systemd-nspawn": "systemd-container", "ip": "iproute2",
         "iptables": "iptables", "ssh": "openssh-client", "ssh-keygen": "openssh-client"}
NET_ADDR_SET = "3"      # /sys/class/net/<dev>/addr_assign_type: the address was set by a user, not taken from a port


def bridge_mac(bridge: str) -> str:
    """The bridge's own fixed MAC: locally administered, unicast, the same for the same bridge name on every host.

    Linux gives a bridge without an address of its own the lowest MAC among its ports, so it changes whenever a
    machine with a lower one starts or stops; the machines keep the old one in their ARP tables (the kernel sends no
    gratuitous ARP by default), so their frames to the host go to a MAC no port answers until the entry is resolved
    again, and a request in flight hangs. libvirt pins its bridges' MACs for the same reason."""
    digest = hashlib.sha256(f"stackkit-bridge:{bridge}".encode()).digest()
    return ":".join(f"{b:02x}" for b in (0x02, *digest[:5]))


@dataclass
class MachineStatus:
    name: str
    address: str
    pid: int
    running: bool
    ssh: bool


def _run(*argv: str, check: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if check and result.returncode != 0:
        raise LocalError(f"{' '.join(argv[:4])}... failed ({result.returncode}): {(result.stderr or result.stdout)[-800:]}")
    return result


def host_mirror() -> str:
    """The Debian mirror this host's apt uses (read at run time; never written into the code)."""
    for path in sorted(Path("/etc/apt/sources.list.d").glob("*.sources")):
        text = path.read_text()
        for block in text.split("\n\n"):
            if re.search(rf"^Suites:.*\b{SUITE}\b", block, re.M) and "security" not in block:
                m = re.search(r"^URIs:\s*(\S+)", block, re.M)
                if m:
                    return m.group(1)
    legacy = Path("/etc/apt/sources.list")
    if legacy.exists():
        for line in legacy.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                return parts[1]
    raise LocalError(f"no {SUITE} mirror in /etc/apt/sources.list(.d): configure apt on this host first")


class Fleet:
    def __init__(self, workdir: Path, bridge: str = "skbr0", subnet: str = "10.213.0.0/24",
                 base_dir: Path | None = None) -> None:
        self.workdir = Path(workdir)
        self.base_dir = Path(base_dir) if base_dir else self.workdir
        self.bridge = bridge
        self.subnet = ipaddress.ip_network(subnet)
        self.gateway = str(next(self.subnet.hosts()))
        self.state_file = self.workdir / "fleet.json"

    # --- host ------------------------------------------------------------------------------------------------------
    def check_host(self) -> None:
        if os.uname().sysname != "Linux":
            raise LocalError("stackkit local runs on Linux only (systemd-nspawn)")
        if os.geteuid() != 0:
            raise LocalError("stackkit local needs root (bridge, NAT, machines): run it with sudo")
        missing = sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})
        if missing:
            raise LocalError(f"missing tools; install them: apt-get install {' '.join(missing)} (scripts/setup does)")
        private_dir(self.workdir)
        free = shutil.disk_usage(self.workdir).free
        if free < 2 * 1024**3:
            raise LocalError(f"{self.workdir}: only {free // 2**20} MiB free; stackkit local needs 2 GiB "
                             "(about 0.4 GB per machine): free some space or pass --workdir elsewhere")

    def ensure_host(self) -> None:
        self.check_host()
        routes = _run("ip", "-4", "route").stdout
        if str(self.subnet) in routes and f"dev {self.bridge}" not in routes:
            raise LocalError(f"{self.subnet} is already used on this host; pick another subnet for the fleet")
        if _run("ip", "link", "show", self.bridge, check=False).returncode != 0:
            _run("ip", "link", "add", self.bridge, "type", "bridge")
        # its own MAC, on a new bridge as on one an earlier version made without it (bridge_mac says why)
        assign = Path(f"/sys/class/net/{self.bridge}/addr_assign_type")
        if not assign.exists() or assign.read_text().strip() != NET_ADDR_SET:
            _run("ip", "link", "set", self.bridge, "address", bridge_mac(self.bridge))
        addr = f"{self.gateway}/{self.subnet.prefixlen}"
        if addr not in _run("ip", "-4", "addr", "show", self.bridge).stdout:
            _run("ip", "addr", "add", addr, "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        Path("/proc/sys/net/ipv4/ip_forward").write_text("1\n")
        # every machine's systemd takes inotify instances; the kernel's default (128 per user) runs out at about a
        # dozen machines (a replacement briefly doubles them): "Failed to allocate manager object: Too many open files"
        for knob, least in (("max_user_instances", 8192), ("max_user_watches", 1048576)):
            f = Path("/proc/sys/fs/inotify") / knob
            if f.exists() and int(f.read_text()) < least:
                f.write_text(f"{least}\n")
        rule = ["POSTROUTING", "-s", str(self.subnet), "!", "-o", self.bridge, "-j", "MASQUERADE"]
        if _run("iptables", "-t", "nat", "-C", *rule, check=False).returncode != 0:
            _run("iptables", "-t", "nat", "-A", *rule)
        self._key()

    def teardown(self) -> None:
        for name in list(self.state()):
            self.stop(name)
        rule = ["POSTROUTING", "-s", str(self.subnet), "!", "-o", self.bridge, "-j", "MASQUERADE"]
        while _run("iptables", "-t", "nat", "-C", *rule, check=False).returncode == 0:
            _run("iptables", "-t", "nat", "-D", *rule)
        _run("ip", "link", "del", self.bridge, check=False)

    # --- keys --------------------------------------------------------------------------------------------------------
    def _key(self) -> Path:
        key = self.workdir / "ssh" / "id_ed25519"
        if not key.exists():
            private_dir(private_dir(self.workdir) / "ssh")
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "stackkit-local", "-f", str(key))
        return key

    @property
    def public_key(self) -> str:
        return self._key().with_suffix(".pub").read_text().strip()

    @property
    def private_key(self) -> str:
        return self._key().read_text()

    # --- base tree ---------------------------------------------------------------------------------------------------
    def base_tree(self) -> Path:
        base = self.base_dir / "base"
        stamp = self.base_dir / "base.ok"
        if stamp.exists() and base.exists():
            return base
        shutil.rmtree(base, ignore_errors=True)
        mirror = host_mirror()
        _run("debootstrap", "--variant=minbase", f"--include={BASE_PACKAGES}", SUITE, str(base), mirror, timeout=1800)
        # the host's extra CAs (its network presents its own) so apt and pip work inside
        for crt in Path("/usr/local/share/ca-certificates").glob("*.crt"):
            shutil.copy(crt, base / "usr/local/share/ca-certificates" / crt.name)
        _run("chroot", str(base), "update-ca-certificates")
        (base / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
        # an `admin` user with passwordless sudo, like a Debian AMI
        if _run("chroot", str(base), "id", "admin", check=False).returncode != 0:
            _run("chroot", str(base), "useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", "admin")
        (base / "etc/sudoers.d/admin").write_text("admin ALL=(ALL) NOPASSWD:ALL\n")
        os.chmod(base / "etc/sudoers.d/admin", 0o440)
        wants = base / "etc/systemd/system/multi-user.target.wants"
        wants.mkdir(parents=True, exist_ok=True)
        for unit in ("systemd-networkd.service", "ssh.service"):
            link = wants / unit
            if not link.is_symlink():
                link.symlink_to(f"/lib/systemd/system/{unit}")
        (base / "etc/machine-id").write_text("")
        stamp.write_text(time.strftime("%FT%T"))
        return base

    # --- machines ----------------------------------------------------------------------------------------------------
    def tree(self, name: str) -> Path:
        return self.workdir / "machines" / name

    def volume_dir(self, name: str) -> Path:
        return self.workdir / "volumes" / name

    def state(self) -> dict[str, dict]:
        if not self.state_file.exists():
            return {}
        return json.loads(self.state_file.read_text())

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, dict]]:
        """The fleet's state for one read, change and write: this process's threads (machines boot in parallel) and
        the other processes (healers, schedule, scaler) wait for each other; the state yielded is saved on exit."""
        private_dir(self.workdir)
        with _STATE_LOCK, open(self.workdir / "fleet.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self.state()
            yield state
            tmp = self.state_file.with_name(f".fleet.json.{os.getpid()}.{threading.get_ident()}")
            tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
            tmp.replace(self.state_file)

    def _record(self, name: str, entry: dict | None) -> None:
        """Set (or, with None, remove) one machine's entry."""
        with self._locked() as state:
            if entry is None:
                state.pop(name, None)
            else:
                state[name] = entry

    def _merge(self, name: str, **values: object) -> dict | None:
        """Change some values of one machine's entry (nothing when the machine is gone); its entry after."""
        with self._locked() as state:
            if name in state:
                state[name] = {**state[name], **values}
            return state.get(name)

    def boot(self, name: str, address: str, timeout: float = 90, hostname: str | None = None,
             authorized_key: str | None = None, host_key: HostKey | None = None) -> MachineStatus:
        """Boot machine `name` at `address`; its hostname (default: the name), the admin user's authorized key
        (default: the fleet's own key, which the fleet also keeps for its own SSH checks) and its only SSH host key
        (default: one derived from the fleet's key and the machine's name), as cloud-init installs a stack's."""
        if ipaddress.ip_address(address) not in self.subnet or address == self.gateway:
            raise LocalError(f"{name}: address {address} is not a host address of {self.subnet}")
        state = self.state()
        if name in state and alive(state[name]["pid"]):
            return self._status(name, state[name])
        base = self.base_tree()
        tree = self.tree(name)
        shutil.rmtree(tree, ignore_errors=True)
        tree.parent.mkdir(parents=True, exist_ok=True)
        _run("cp", "-a", "--reflink=auto", str(base), str(tree), timeout=600)
        host = hostname or name
        (tree / "etc/hostname").write_text(f"{host}\n")
        # as a cloud image's (cloud-init leaves it alone by default): the hostname is not in it, setup makes it resolve
        (tree / "etc/hosts").write_text("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n")
        net = tree / "etc/systemd/network/10-host0.network"
        net.parent.mkdir(parents=True, exist_ok=True)
        net.write_text(f"[Match]\nName=host0\n\n[Network]\nAddress={address}/{self.subnet.prefixlen}\n"
                       f"Gateway={self.gateway}\nDNS={_host_dns()}\n")
        shutil.copy("/etc/resolv.conf", tree / "etc/resolv.conf") if Path("/etc/resolv.conf").exists() else None
        host_key = host_key or derive(self.private_key, "stackkit local fleet", name)
        self._install_host_key(tree, host_key)
        ssh_dir = tree / "home/admin/.ssh"
        ssh_dir.mkdir(parents=True, exist_ok=True)
        keys = [self.public_key] + ([authorized_key.strip()] if authorized_key else [])
        (ssh_dir / "authorized_keys").write_text("\n".join(keys) + "\n")
        os.chmod(ssh_dir, 0o700)
        os.chmod(ssh_dir / "authorized_keys", 0o600)
        uid = int(_run("chroot", str(tree), "id", "-u", "admin").stdout)
        for p in (ssh_dir, ssh_dir / "authorized_keys"):
            os.chown(p, uid, uid)
        self._record(name, {"address": address, "host_key": host_key.public})   # a new machine: a new entry
        return self._start(name, self.state()[name], timeout)

    def _start(self, name: str, entry: dict, timeout: float) -> MachineStatus:
        """Run systemd-nspawn on the machine's tree as it is, and wait for its SSH (with its pinned host key)."""
        address = entry["address"]
        volumes = self.workdir / "volumes"
        volumes.mkdir(parents=True, exist_ok=True)
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "-q", "-b", "-D", str(self.tree(name)), "-M", name,
             f"--network-bridge={self.bridge}", f"--bind={volumes}:/mnt/stackkit-volumes", "--resolv-conf=off"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        # started: when it last booted, as EC2's LaunchTime (the scaling function stops the newest first)
        self._merge(name, pid=proc.pid, started=time.time())
        state = self.state()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise LocalError(f"{name}: systemd-nspawn exited ({proc.returncode}); see {self.workdir / (name + '.log')}")
            if self._ssh_ok(address, entry.get("host_key")):
                return self._status(name, state[name])
            time.sleep(1)
        raise LocalError(f"{name}: no SSH on {address} after {timeout:.0f} s; see {self.workdir / (name + '.log')}")

    @staticmethod
    def _install_host_key(tree: Path, key: HostKey) -> None:
        """The machine's only host key (the base tree's, generated once by debootstrap, would be every machine's)."""
        ssh = tree / "etc/ssh"
        for old in ssh.glob("ssh_host_*"):
            old.unlink()
        private = ssh / "ssh_host_ed25519_key"
        private.write_text(key.private)
        os.chmod(private, 0o600)
        (ssh / "ssh_host_ed25519_key.pub").write_text(key.public + "\n")

    def _ssh_ok(self, address: str, host_key: str | None) -> bool:
        """sshd answers at `address` with the machine's host key (as ssh-keyscan reads it: no login, so whatever keys
        the users step authorizes, the fleet can tell a machine that is up)."""
        r = subprocess.run(["ssh-keyscan", "-T", "2", "-t", "ed25519", address], capture_output=True, text=True,
                           timeout=20)
        offered = {" ".join(line.split()[1:3]) for line in r.stdout.splitlines() if not line.startswith("#")}
        if host_key is None:
            return bool(offered)
        return " ".join(host_key.split()[:2]) in offered

    def _status(self, name: str, entry: dict) -> MachineStatus:
        running = alive(entry["pid"])
        return MachineStatus(name=name, address=entry["address"], pid=entry["pid"], running=running,
                             ssh=running and self._ssh_ok(entry["address"], entry.get("host_key")))

    def host_key(self, name: str) -> str | None:
        """The public host key machine `name` was booted with."""
        return self.state().get(name, {}).get("host_key")

    def status(self) -> list[MachineStatus]:
        return [self._status(n, e) for n, e in sorted(self.state().items())]

    def leader_pid(self, name: str) -> int | None:
        """The pid of the machine's init (its network namespace is the machine's), or None when it is not running."""
        entry = self.state().get(name)
        if entry is None or not alive(entry["pid"]):
            return None
        children = Path(f"/proc/{entry['pid']}/task/{entry['pid']}/children")
        pids = children.read_text().split() if children.exists() else []
        return int(pids[0]) if pids else None

    def recover(self, name: str, timeout: float = 90) -> MachineStatus:
        """The local EC2 recover action: the machine whose systemd-nspawn died boots again from its own tree, as it
        was: same address, host key, volumes and files (nothing is copied from the base tree). Counted in its entry
        (`recoveries`)."""
        status = self.start(name, timeout)
        with self._locked() as state:
            if name in state:
                state[name] = {**state[name], "recoveries": int(state[name].get("recoveries") or 0) + 1}
        return status

    def start(self, name: str, timeout: float = 90) -> MachineStatus:
        """EC2 StartInstances on this host: a stopped machine boots again from its own tree, as it was (same address,
        host key, volumes and files); a running one is left alone."""
        entry = self.state().get(name)
        if entry is None:
            raise LocalError(f"{name}: no such machine")
        if alive(entry["pid"]):
            return self._status(name, entry)
        return self._start(name, entry, timeout)

    def heal(self, name: str, on: bool) -> None:
        """Watch machine `name` (its auto-healing alarm): a supervisor process (stackkit.local.healer) recovers it
        whenever its systemd-nspawn dies without `stop`; off: the supervisor is ended."""
        entry = self.state().get(name)
        if entry is None:
            return
        healer = int(entry.get("healer") or 0)
        if on and not alive(healer):
            log = open(self.workdir / f"{name}.healer.log", "ab")  # noqa: SIM115 - handed to the child
            proc = subprocess.Popen(
                [sys.executable, "-m", "stackkit.local.healer", str(self.workdir), name, "--bridge", self.bridge,
                 "--subnet", str(self.subnet), "--base-dir", str(self.base_dir)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                cwd=Path(__file__).resolve().parents[2])
            healer = proc.pid
        elif not on and alive(healer):
            os.kill(healer, signal.SIGTERM)
            healer = 0
        self._merge(name, heal=on, healer=healer if on else 0)

    def add_address(self, name: str, address: str, add: bool = True) -> None:
        """An Elastic IP: the address on the machine's interface (its network namespace is its leader's)."""
        pid = self.leader_pid(name)
        if pid is None:
            if add:
                raise LocalError(f"{name}: the machine is not running; cannot associate {address}")
            return
        op = "add" if add else "del"
        out = _run("nsenter", "-t", str(pid), "-n", "ip", "addr", op, f"{address}/{self.subnet.prefixlen}", "dev",
                   "host0", check=False)
        if out.returncode != 0 and "File exists" not in out.stderr and add:
            raise LocalError(f"{name}: could not add {address}: {out.stderr.strip()}")

    def tag(self, name: str, **values: object) -> None:
        """Keep values in the machine's fleet entry, as EC2 keeps an instance's tags (the scaler's scaled_at)."""
        self._merge(name, **values)

    def stop(self, name: str, timeout: float = 30) -> None:
        """EC2 StopInstances on this host: an orderly shutdown of the machine (systemd-nspawn's SIGTERM powers it
        off as ACPI does an instance), its tree, address and volumes kept for the next start."""
        state = self.state()
        entry = state.get(name)
        if entry is None:
            return
        pid = entry["pid"]
        # stopped on purpose first (pid 0), then killed: a healer never takes a deliberate stop for a failure
        self._merge(name, pid=0)
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.5)
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        self._merge(name, pid=0)

    def destroy(self, name: str) -> None:
        self.heal(name, False)
        self.stop(name)
        self._record(name, None)
        shutil.rmtree(self.tree(name), ignore_errors=True)


@contextlib.contextmanager
def pinned_options(host: str, port: int, host_key: str | None) -> Iterator[list[str]]:
    """ssh -o options that accept exactly `host_key` ("ssh-ed25519 AAAA...") for host:port, or anything when None
    (as pulumi-command checks a connection's hostKey: that key and its algorithm only)."""
    if not host_key:
        yield ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return
    fd, known_hosts = tempfile.mkstemp(prefix="stackkit-known-hosts-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{host if port == 22 else f'[{host}]:{port}'} {host_key.strip()}\n")
        yield ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
               "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no",
               "-o", f"HostKeyAlgorithms={host_key.split()[0]}"]
    finally:
        os.unlink(known_hosts)


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie of ours is not alive
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.split(") ", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _host_dns() -> str:
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            if line.startswith("nameserver "):
                return line.split()[1]
    except OSError:
        pass
    raise LocalError("this host has no nameserver in /etc/resolv.conf; the machines need one to reach packages")

