"""Reading a Pulumi.<stack>.yaml without the Pulumi CLI (for the offline plan, the tests and `stackkit local`).

Secure values cannot be decrypted here: each is replaced by a deterministic placeholder (`sk-secret-<hash of its path>`),
and its top-level key is marked secret, exactly as the engine marks a key holding a secure value.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from stackkit.errors import ConfigError


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: dict[str, Any]          # 'aws:region' / 'stackkit:stack' ... -> plain values (secrets as placeholders)
    secret_keys: frozenset[str]
    placeholders: dict[str, str]    # 'stackkit:apps.site.secret_environment.X' -> placeholder value

    @property
    def stack(self) -> str:
        name = self.path.name
        return name[len("Pulumi."):-len(".yaml")] if name.startswith("Pulumi.") else self.path.stem


def placeholder(path: str) -> str:
    return "sk-secret-" + hashlib.sha256(path.encode()).hexdigest()[:20]


def read_stack_file(path: Path) -> StackFile:
    if not path.exists():
        raise ConfigError([f"{path}: no such stack file (stack files are named Pulumi.<stack>.yaml)"])
    try:
        doc = YAML(typ="safe").load(path.read_text()) or {}
    except YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {str(exc).splitlines()[0]}"]) from None
    config = doc.get("config") if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise ConfigError([f"{path}: has no `config:` mapping"])
    placeholders: dict[str, str] = {}
    secret_keys: set[str] = set()

    def walk(value: Any, dotted: str, key: str) -> Any:
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
            placeholders[dotted] = placeholder(dotted)
            return placeholders[dotted]
        if isinstance(value, dict):
            return {k: walk(v, f"{dotted}.{k}", key) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{dotted}[{i}]", key) for i, v in enumerate(value)]
        return value

    plain = {key: walk(value, key, key) for key, value in config.items()}
    return StackFile(path=path, config=plain, secret_keys=frozenset(secret_keys), placeholders=placeholders)
