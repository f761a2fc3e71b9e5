"""Reading a Pulumi.<stack>.yaml without the Pulumi CLI (for the offline plan, the tests and `stackkit local`).

Secure values cannot be decrypted here: each is replaced by a deterministic placeholder (`sk-secret-<hash of its path>`),
and its top-level key is marked secret, exactly as the engine marks a key holding a secure value. A secure value where the
schema has no secret field is refused here, at its exact path (stackkit.config.secret_paths).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackkit.config.patch import apply
from stackkit.config.secret_paths import misplaced_secure, plaintext_secrets
from stackkit.errors import ConfigError, StackkitError
from stackkit.paths import ROOT
from stackkit.yamltext import parse_yaml


@dataclass(frozen=True)
class StackFile:
    path: Path
    config: dict[str, Any]          # 'aws:region' / 'stackkit:stack' ... -> plain values (secrets as placeholders)
    secret_keys: frozenset[str]
    placeholders: dict[str, str]    # 'stackkit:apps.site.secret_environment.X' -> placeholder value

    @property
    def secure_paths(self) -> frozenset[str]:
        """The exact path of every `secure:` value ('stackkit:apps.site.secret_environment.X')."""
        return frozenset(self.placeholders)

    @property
    def stack(self) -> str:
        name = self.path.name
        return name[len("Pulumi."):-len(".yaml")] if name.startswith("Pulumi.") else self.path.stem

    def with_change(self, change: dict[str, Any]) -> StackFile:
        """The same stack file with a change applied (stackkit.config.patch), as if edited."""
        return StackFile(self.path, apply(self.config, change), self.secret_keys, self.placeholders)


def placeholder(path: str) -> str:
    return "sk-secret-" + hashlib.sha256(path.encode()).hexdigest()[:20]


def read_text(path: Path) -> str:
    """A stack file's text, or a ConfigError saying why it cannot be read (missing, a folder, not UTF-8)."""
    if path.is_dir():
        raise ConfigError([f"{path}: is a folder; name a stack file (Pulumi.<stack>.yaml) inside it"])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such stack file (stack files are named Pulumi.<stack>.yaml)"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot be read ({exc.strerror or exc}); check its permissions"]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError([f"{path}: line {line}: byte 0x{data[exc.start]:02x} is not UTF-8; a stack file is UTF-8 "
                           "YAML text: re-save it as UTF-8 (iconv -f latin1 -t utf-8)"]) from None


def read_stack_file(path: Path) -> StackFile:
    text = read_text(path)
    doc = parse_yaml(text, path) or {}
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
    problems = misplaced_secure(placeholders) + plaintext_secrets(plain, placeholders)
    if problems:
        raise ConfigError(problems, str(path))
    return StackFile(path=path, config=plain, secret_keys=frozenset(secret_keys), placeholders=placeholders)


def stack_path(stack: str | None, config: str | None, verb: str = "plan") -> Path:
    """The stack file a command names: `--config FILE`, else `Pulumi.<stack>.yaml` of this project."""
    if config:
        return Path(config)
    if not stack:
        raise StackkitError(f"name a stack ({verb} production) or a stack file (--config path/Pulumi.<stack>.yaml)")
    return ROOT / f"Pulumi.{stack}.yaml"
