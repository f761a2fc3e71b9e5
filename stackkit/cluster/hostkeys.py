"""SSH host keys: each instance's ed25519 host key, derived from a stack secret and the instance's identity, the
cloud-config that installs it at first boot, and reading it back from that cloud-config (docs/design.md, "SSH host
keys"). Pure: no Pulumi, no I/O.

    seed = HKDF-SHA256(ikm = the stack's SSH private key, salt = SALT, info = "stackkit host key v1|<stack>|<instance>")

<stack> is the Pulumi stack's name and <instance> the instance's name: both are part of the EC2 instance's URN, so the
key is the same for as long as the engine keeps the instance's first user data (user data is in ignore_changes, and
the engine creates a replacement with the ignored inputs of the old copy). Anyone holding the SSH private key can
derive the host keys, and could already log in as the admin user and read them.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from io import StringIO

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from stackkit.errors import ConfigError
from stackkit.yamltext import parse_yaml

VERSION = "v1"
SALT = b"stackkit ssh host key"
KEY_TYPE = "ssh-ed25519"
CLOUD_CONFIG = "#cloud-config"


@dataclass(frozen=True)
class HostKey:
    private: str      # OpenSSH private key file text (openssh-key-v1, unencrypted), what sshd reads
    public: str       # "ssh-ed25519 AAAA...": an authorized_keys/known_hosts line without host, what clients pin

    def __repr__(self) -> str:   # never print the private half
        return f"HostKey(public={self.public!r})"


def derive(secret: str, stack: str, instance: str) -> HostKey:
    """The host key of `instance` in `stack`; `secret` is the stack's SSH private key (surrounding whitespace is
    ignored, so a trailing newline in the stored secret does not change every host key)."""
    info = f"stackkit host key {VERSION}|{stack}|{instance}".encode()
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT, info=info).derive(secret.strip().encode())
    key = Ed25519PrivateKey.from_private_bytes(seed)
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return HostKey(private=_openssh_private(seed, raw_public, comment=f"{stack}/{instance}"), public=public)


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _openssh_private(seed: bytes, public: bytes, comment: str) -> str:
    """The openssh-key-v1 file of an ed25519 key, unencrypted (OpenSSH's PROTOCOL.key). Written here, not with
    cryptography's serializer, because that one draws its check integer at random: the same key would give a different
    text (and user data) on every run."""
    blob = _string(KEY_TYPE.encode()) + _string(public)
    check = hashlib.sha256(b"check" + seed).digest()[:4]
    section = check + check + _string(KEY_TYPE.encode()) + _string(public) + _string(seed + public) \
        + _string(comment.encode())
    section += bytes(range(1, 1 + (-len(section) % 8)))       # padding 1, 2, 3... to the cipher block size (8)
    body = b"openssh-key-v1\0" + _string(b"none") + _string(b"none") + _string(b"") + struct.pack(">I", 1) \
        + _string(blob) + _string(section)
    text = base64.b64encode(body).decode()
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "-----BEGIN OPENSSH PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END OPENSSH PRIVATE KEY-----\n"


def cloud_config(hostname: str, key: HostKey) -> str:
    """The instance's user data: its hostname, and its only SSH host key (cloud-init's cc_ssh: delete the image's
    keys, generate none, install these)."""
    doc = {
        "hostname": hostname,
        "preserve_hostname": False,
        "ssh_deletekeys": True,
        "ssh_genkeytypes": [],
        "ssh_keys": {"ed25519_private": LiteralScalarString(key.private), "ed25519_public": key.public},
    }
    out = StringIO()
    yaml = YAML()
    yaml.width = 4096
    yaml.dump(doc, out)
    return f"{CLOUD_CONFIG}\n{out.getvalue()}"


def _cloud_config(user_data: str | None) -> dict:
    """The settings of a cloud-config user data (read as cloud-init reads it: YAML); {} for any other user data."""
    if not user_data or not user_data.startswith(CLOUD_CONFIG):
        return {}
    try:
        doc = parse_yaml(user_data, "user data")
    except ConfigError:
        return {}
    return doc if isinstance(doc, dict) else {}


def hostname_of(user_data: str | None) -> str | None:
    """The hostname a cloud-config sets (cloud-init's cc_set_hostname), or None when it sets none."""
    name = _cloud_config(user_data).get("hostname")
    return str(name) if name else None


def from_cloud_config(user_data: str | None) -> HostKey | None:
    """The host key a cloud-config installs, or None when it installs none."""
    keys = _cloud_config(user_data).get("ssh_keys")
    if not isinstance(keys, dict) or not keys.get("ed25519_private") or not keys.get("ed25519_public"):
        return None
    return HostKey(private=str(keys["ed25519_private"]), public=str(keys["ed25519_public"]).strip())
