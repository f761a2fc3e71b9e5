"""Reading a Pulumi.<stack>.yaml without the Pulumi CLI (for the offline plan, the tests and `stackkit local`).

Secure values cannot be decrypted here: each is replaced by a deterministic placeholder (`sk-secret-<hash of its path>`),
and its top-level key is marked secret, exactly as the engine marks a key holding a secure value.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from stackkit.errors import ConfigError, StackkitError
from stackkit.paths import ROOT


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

    def with_change(self, change: dict[str, Any]) -> StackFile:
        """The same stack file with a change applied (stackkit.config.patch), as if edited."""
        from stackkit.config.patch import apply
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


def _duplicate_lines(text: str, exc: DuplicateKeyError) -> tuple[str, list[int]]:
    """The duplicated key of the mapping the error names and every line it stands on (ruamel gives only the second)."""
    start = exc.context_mark
    found: list[tuple[str, list[int]]] = []

    def walk(node: Node) -> None:
        if isinstance(node, MappingNode):
            if start is not None and (node.start_mark.line, node.start_mark.column) == (start.line, start.column):
                lines: dict[str, list[int]] = {}
                for key, _ in node.value:
                    lines.setdefault(str(key.value), []).append(key.start_mark.line + 1)
                found.extend((k, v) for k, v in lines.items() if len(v) > 1)
            for key, value in node.value:
                walk(key)
                walk(value)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                walk(item)

    with contextlib.suppress(YAMLError):
        walk(YAML().compose(text))
    if found:
        return found[0]
    mark = exc.problem_mark
    return "?", [mark.line + 1] if mark is not None else []


def yaml_problem(path: Path | str, text: str, exc: YAMLError) -> str:
    """One 'path: line N: problem' line for a YAML error, a duplicate key with both of its lines."""
    if isinstance(exc, DuplicateKeyError):
        key, lines = _duplicate_lines(text, exc)
        where = " and ".join(str(n) for n in lines)
        return (f"{path}: line {lines[-1] if lines else '?'}: duplicate key '{key}' (lines {where}); "
                "a key appears once per mapping: remove or merge the others")
    if isinstance(exc, MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        context = f" ({exc.context}, line {exc.context_mark.line + 1})" if exc.context and exc.context_mark else ""
        return f"{path}: line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {exc.problem}{context}"
    return f"{path}: not valid YAML: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def read_stack_file(path: Path) -> StackFile:
    text = read_text(path)
    try:
        doc = YAML(typ="safe").load(text) or {}
    except YAMLError as exc:
        raise ConfigError([yaml_problem(path, text, exc)]) from None
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


def stack_path(stack: str | None, config: str | None, verb: str = "plan") -> Path:
    """The stack file a command names: `--config FILE`, else `Pulumi.<stack>.yaml` of this project."""
    if config:
        return Path(config)
    if not stack:
        raise StackkitError(f"name a stack ({verb} production) or a stack file (--config path/Pulumi.<stack>.yaml)")
    return ROOT / f"Pulumi.{stack}.yaml"
