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
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
             "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")
KEY_LINE = re.compile(r"^(?P<type>\S+) (?P<blob>[A-Za-z0-9+/]+={0,2})(?: (?P<comment>[ -~]{1,200}))?$")
# useradd's rules as Debian configures them (NAME_REGEX), at most 32 characters; no trailing $ (Samba machine accounts)
USER_NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# accounts and groups of the images and of the packages the layers install, as data with its sources
# (stackkit/config/data/image_accounts.txt)
SYSTEM_NAMES = frozenset(
    line for line in (Path(__file__).parent / "data" / "image_accounts.txt").read_text().split("\n")
    if line and not line.startswith("#"))


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


def _strings(blob: bytes) -> list[bytes] | None:
    """The SSH wire-format strings of a key blob (RFC 4251 5: uint32 length, then the bytes), None if it is cut."""
    out, at = [], 0
    while at < len(blob):
        if at + 4 > len(blob):
            return None
        size = int.from_bytes(blob[at:at + 4], "big")
        if at + 4 + size > len(blob):
            return None
        out.append(blob[at + 4:at + 4 + size])
        at += 4 + size
    return out


# the fields after the type name in each key type's blob and a check of them: RFC 8709 (ed25519: a 32-byte key),
# RFC 4253 6.6 (ssh-rsa: e, n as mpints; OpenSSH refuses moduli under 1024 bits), RFC 5656 3.1 (ecdsa: the curve's
# name matching the type, then the point Q), OpenSSH PROTOCOL.u2f (sk- keys: the key, then the application).
_ECDSA_POINT = {"nistp256": 65, "nistp384": 97, "nistp521": 133}


def _blob_problem(kind: str, fields: list[bytes]) -> str | None:
    if kind in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        ok = len(fields) == (2 if kind == "ssh-ed25519" else 3) and len(fields[1]) == 32
        return None if ok else "an ed25519 key is 32 bytes"
    if kind == "ssh-rsa":
        if len(fields) != 3:
            return "an RSA key is an exponent and a modulus"
        bits = int.from_bytes(fields[2], "big").bit_length()
        return None if bits >= 1024 else f"the RSA modulus has {bits} bits; OpenSSH takes 1024 or more (use 3072)"
    curve = kind.removeprefix("sk-").removeprefix("ecdsa-sha2-").removesuffix("@openssh.com")
    want = 3 if kind.startswith("ecdsa-") else 4
    if len(fields) != want or fields[1] != curve.encode() or len(fields[2]) != _ECDSA_POINT.get(curve, -1):
        return f"an ECDSA key names its curve ({curve}) and holds its point"
    return None


def public_key_problem(line: str) -> str | None:
    """Why `line` is not one OpenSSH public key line of an allowed type (None if it is): its base64 data must decode
    to a key blob of the same type, with the fields that type has."""
    m = KEY_LINE.fullmatch(line)
    if m is None or m["type"] not in KEY_TYPES:
        return (f"{line[:60]!r} is not one OpenSSH public key line: write `<type> <key> [comment]` as in the .pub file, "
                f"without authorized_keys options (command=, from=...); types: {', '.join(KEY_TYPES)}")
    try:
        blob = base64.b64decode(m["blob"], validate=True)
    except (binascii.Error, ValueError):
        return f"{line[:60]!r}: the key is not valid base64; copy the whole line of the .pub file"
    fields = _strings(blob)
    if not fields or fields[0] != m["type"].encode():
        return f"{line[:60]!r}: the key's data is not a {m['type']} key; copy the whole line of the .pub file"
    problem = _blob_problem(m["type"], fields)
    if problem:
        return f"{line[:60]!r}: the key's data does not parse ({problem}); copy the whole line of the .pub file"
    return None
