"""Who reaches the instances as the deploy user, and the edits that would lock stackkit out of them (pure).

Every lifecycle command connects as the deploy user (stack.ssh_user) with the stack's SSH private key. The users step
writes that user's authorized_keys on every instance: exactly the stack's public key and stack.ssh_authorized_keys.
The Stack exports what it authorized (`ssh_keys`: fingerprints); before registering anything, the program reads the
previous deployment's value and refuses a key-pair switch that would leave a running instance that no command can
reach, or a delete that could no longer connect (docs/lifecycle.md, "Rotating the SSH key pair"):

1. add the new public key to stack.ssh_authorized_keys, `pulumi up` (every instance authorizes it, with the old key);
2. switch ssh_public_key/ssh_private_key to the new pair and put the old public key in stack.ssh_authorized_keys,
   `pulumi up` (every command's connection changes: nothing runs again; the key pair is replaced, no instance is);
3. remove the old public key from stack.ssh_authorized_keys, `pulumi up`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from stackkit.config.models import StackConfig

KEYS_OUTPUT = "ssh_keys"
DOCS = "docs/lifecycle.md, 'Rotating the SSH key pair'"


def fingerprint(key: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line ("ssh-ed25519 AAAA... comment")."""
    parts = key.split()
    blob = base64.b64decode(parts[1] + "=" * (-len(parts[1]) % 4)) if len(parts) > 1 else key.encode()
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def deploy_keys(cfg: StackConfig) -> list[str]:
    """The deploy user's authorized keys: the stack's, then stack.ssh_authorized_keys, once each (by fingerprint),
    sorted by fingerprint so that the same set is the same list (a switch that only swaps which is which re-runs
    nothing)."""
    seen: dict[str, str] = {}
    for key in (cfg.stack.ssh_public_key, *cfg.stack.ssh_authorized_keys):
        seen.setdefault(fingerprint(key), " ".join(key.split()[:2]))
    return [seen[f] for f in sorted(seen)]


def keys_output(cfg: StackConfig) -> dict[str, Any]:
    return {"deploy": fingerprint(cfg.stack.ssh_public_key),
            "authorized": sorted({fingerprint(k) for k in deploy_keys(cfg)})}


def rotation_problems(previous: Mapping[str, Any] | None, cfg: StackConfig) -> list[str]:
    """What a key-pair switch would break, against the last deployment's `ssh_keys` output (none: a new stack)."""
    if not previous or not isinstance(previous.get("deploy"), str):
        return []
    now = keys_output(cfg)
    before, authorized_before = previous["deploy"], set(previous.get("authorized") or [])
    if now["deploy"] == before:
        return []
    problems = []
    if now["deploy"] not in authorized_before:
        problems.append(
            f"stack.ssh_public_key: a new key pair ({now['deploy']}) that the running instances do not authorize yet: "
            "every command would connect with it and fail. First add the new public key to "
            "stack.ssh_authorized_keys and run `pulumi up`; then switch the key pair (" + DOCS + ")")
    if before not in now["authorized"]:
        problems.append(
            f"stack.ssh_authorized_keys: keep the previous public key ({before}) in it for the update that switches "
            "the key pair (a command deleted or replaced in that update still connects with the previous key); "
            "remove it in the next update (" + DOCS + ")")
    return problems
