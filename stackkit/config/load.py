"""Loading the stack config: raw Pulumi config in, a validated and cross-checked `Loaded` out, or one `ConfigError`
listing every problem with its path. Nothing here registers a resource."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError

from stackkit.config.aws_checks import run_aws_checks
from stackkit.config.checks import merged_attributes, run_checks
from stackkit.config.errors import format_validation_error
from stackkit.config.inputs import control_characters
from stackkit.config.layerspec import LayerSpec, load_layer_specs
from stackkit.config.models import StackConfig
from stackkit.config.secret_paths import misplaced_secure, plaintext_message
from stackkit.errors import ConfigError
from stackkit.paths import layers_dir as current_layers

NAMESPACE = "stackkit"
KEYS = ("stack", "layers", "instances", "apps", "resources", "users")


@dataclass(frozen=True)
class Loaded:
    """The validated stack: its config, the metadata of the layers it uses, and each instance's merged attributes."""

    config: StackConfig
    specs: dict[str, LayerSpec]
    attrs: dict[str, dict[str, Any]] = field(repr=False)

    @property
    def name(self) -> str:
        return self.config.stack.name


def load(raw: Mapping[str, Any], secret_keys: Iterable[str] = (), source: str = "",
         layers_dir: Path | None = None, secure_paths: Iterable[str] | None = None) -> Loaded:
    """Validate `raw` ({'aws:region': ..., 'stackkit:stack': {...} or its JSON text, ...}). `secure_paths`: the exact
    path of every secure value of the stack file ('stackkit:apps.site.secret_environment.X'); without them (a program
    whose stack file is not at hand), a secret field counts as encrypted when its top-level key is secret."""
    secret_keys = set(secret_keys)
    secure = None if secure_paths is None else set(secure_paths)
    problems: list[str] = [] if secure is None else misplaced_secure(secure)
    data: dict[str, Any] = {}
    for key, value in raw.items():
        ns, _, name = key.partition(":")
        if ns != NAMESPACE:
            continue
        if name not in KEYS:
            problems.append(f"{key}: unknown config key (stackkit reads {', '.join(f'{NAMESPACE}:{k}' for k in KEYS)})")
            continue
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                problems.append(f"{name}: must be a mapping (structured config), not the text {value[:40]!r}")
                continue
        data[name] = value
    if raw.get("aws:region") is None:
        problems.append("aws:region: required; add `aws:region: eu-west-1` (or your region) to the stack file")
    else:
        data["region"] = raw["aws:region"]

    specs, spec_problems = load_layer_specs(layers_dir or current_layers())
    problems.extend(spec_problems)
    # before the models: a NUL or an escape sequence must not reach a pattern, a message or a rendered script
    controls = [("aws:" + p if p.startswith("region:") else p) for p in control_characters(data)]
    if controls:
        raise ConfigError(problems + controls, source)
    try:
        cfg = StackConfig.model_validate(data)
    except ValidationError as exc:
        found = [("aws:" + p if p.startswith("region: ") else p)
                 for p in format_validation_error(exc, "", StackConfig) if not p.startswith("region: required")]
        found = [p.replace(": required; add it", f": required; add `{NAMESPACE}:" + p.split(":")[0] + ":` to the stack file")
                 if ":" in p and "." not in p.split(":")[0] and p.split(":")[0] in KEYS else p for p in found]
        raise ConfigError(problems + found, source) from None
    if problems:
        raise ConfigError(problems, source)

    problems.extend(run_checks(cfg, specs))
    problems.extend(run_aws_checks(cfg, specs))
    problems.extend(_plaintext_secrets(cfg, secret_keys, secure))
    if problems:
        raise ConfigError(problems, source)
    used = {la: specs[la] for la in sorted(cfg.layers)}
    attrs = {name: merged_attributes(cfg, used, name) for name in sorted(cfg.instances)}
    return Loaded(config=cfg, specs=used, attrs=attrs)


def secret_fields(value: Any, path: str = "") -> Iterator[tuple[str, SecretStr]]:
    """Every secret field set in a model (or a value inside one), with its config path."""
    if isinstance(value, SecretStr):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_fields(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from secret_fields(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from secret_fields(v, f"{path}[{i}]")


def _plaintext_secrets(cfg: StackConfig, secret_keys: set[str], secure: set[str] | None) -> Iterator[str]:
    for key in KEYS:
        for path, _ in secret_fields(getattr(cfg, key), key):
            encrypted = f"{NAMESPACE}:{key}" in secret_keys if secure is None else f"{NAMESPACE}:{path}" in secure
            if not encrypted:
                yield plaintext_message(path)


def from_pulumi() -> Loaded:
    """Load from the running Pulumi program's config (real engine or mocks)."""
    import pulumi
    from pulumi.runtime import config as rc

    merged = {**rc.get_config_env(), **rc.CONFIG.get()}
    raw = {k: v for k, v in merged.items() if k.startswith(f"{NAMESPACE}:") or k == "aws:region"}
    secret = {k for k in raw if rc.is_config_secret(k)}
    # the engine only says which top-level keys hold a secure value: the exact paths were checked where the stack
    # file is read (stackkit.config.stackfile), by the CLI and the local cloud
    return load(raw, secret, source=f"Pulumi.{pulumi.get_stack()}.yaml")
