"""Per-user SSH access and sudo (`stackkit:users`, OpsWorks' user profiles): the model of one user and the load-time
the key line's own checks (the user names against the layers and the deploy user are in
stackkit.config.user_checks).

    stackkit:users:
      alice: {ssh_public_key: "ssh-ed25519 AAAA... alice@laptop", sudo: true, layers: [frontend]}

A key is one OpenSSH public key line, `<type> <base64 blob> [comment]`: no authorized_keys options (`command=`,
`from=`...) and no second line; the blob must decode and name the same type. The users step checks it again with
`ssh-keygen -l` on the instance before installing it.
"""

from __future__ import annotations

import base64
import binascii
import re

from pydantic import BaseModel, ConfigDict, field_validator

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
KEY_LINE = re.compile(r"^(?P<type>\S+) (?P<blob>[A-Za-z0-9+/]+={0,2})(?: (?P<comment>[ -~]{1,200}))?$")
# useradd's rules as Debian configures them (NAME_REGEX), at most 32 characters; no trailing $ (Samba machine accounts)
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# accounts and groups of Debian 12 / Ubuntu 24.04 images and of the packages the layers install: a user here would be
# taken over (or useradd would fail on its group). The users step also refuses any existing account it did not create.
SYSTEM_NAMES = frozenset({
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
    "backup", "list", "irc", "gnats", "_gnats", "nobody", "nogroup", "systemd-network", "systemd-resolve",
    "systemd-timesync", "systemd-coredump", "systemd-journal", "messagebus", "sshd", "_apt", "syslog", "uuidd",
    "tcpdump", "polkitd", "_chrony", "chrony", "ntp", "dnsmasq", "landscape", "pollinate", "fwupd-refresh", "usbmux",
    "tss", "lxd", "_rpc", "statd", "haproxy", "nginx", "postgres", "redis", "memcache", "varnish", "vcache",
    "varnishlog", "zope", "zeo", "plone", "admin", "ubuntu", "debian", "ec2-user", "cloud-user", "adm", "tty", "disk",
    "kmem", "dialout", "fax", "voice", "cdrom", "floppy", "tape", "sudo", "audio", "dip", "video", "plugdev", "staff",
    "users", "netdev", "render", "sgx", "input", "kvm", "crontab", "shadow", "utmp", "operator", "src", "sasl",
    "scanner", "lpadmin", "sambashare", "wheel", "stackkit"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserSettings(_Strict):
    ssh_public_key: str
    sudo: bool = False
    layers: list[str] | None = None     # None: every instance of the stack

    @field_validator("ssh_public_key")
    @classmethod
    def _key(cls, v: str) -> str:
        problem = public_key_problem(v)
        if problem:
            raise ValueError(problem)
        return v


def public_key_problem(line: str) -> str | None:
    """Why `line` is not one OpenSSH public key line of an allowed type (None if it is)."""
    m = KEY_LINE.fullmatch(line)
    if m is None or m["type"] not in KEY_TYPES:
        return (f"{line[:60]!r} is not one OpenSSH public key line: write `<type> <key> [comment]` as in the .pub file, "
                f"without authorized_keys options (command=, from=...); types: {', '.join(KEY_TYPES)}")
    try:
        blob = base64.b64decode(m["blob"], validate=True)
    except (binascii.Error, ValueError):
        return f"{line[:60]!r}: the key is not valid base64; copy the whole line of the .pub file"
    size = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if size <= 0 or blob[4:4 + size].decode("ascii", "replace") != m["type"]:
        return f"{line[:60]!r}: the key's data is not a {m['type']} key; copy the whole line of the .pub file"
    return None
