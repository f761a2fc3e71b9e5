"""A layer's own metadata: layers/<name>/layer.yaml, validated strictly.

A layer describes itself (Ansible role / OpsWorks layer style): packages, ports and who may reach them, what cluster state it
watches, its volumes, its templates and its attribute defaults. Scripts are the `<event>.sh.j2` files beside it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stackkit.config.attribute_kinds import attribute_leaves, type_problem, value_problem
from stackkit.config.errors import format_validation_error
from stackkit.errors import ConfigError
from stackkit.yamltext import parse_yaml

EVENTS = ("setup", "deploy", "configure", "undeploy", "shutdown")
Event = Literal["setup", "deploy", "configure", "undeploy", "shutdown"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class FromLayers(_Strict):
    layers: list[str] = Field(min_length=1)


# EC2 descriptions (security groups and their rules): "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*"
EC2_TEXT = r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]*$"


def ec2_text(text: str) -> str:
    """Prose as an EC2 description: characters EC2 refuses dropped, at most 255 characters."""
    return re.sub(r"[^a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]", "", text)[:255]


PortFrom = Literal["internet", "admin", "local", "stack"] | FromLayers


class Port(_Strict):
    port: int = Field(ge=1, le=65535)
    to_port: int | None = Field(default=None, ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    from_: PortFrom = Field(alias="from")
    # it becomes a security group rule's description: EC2 allows only these characters there
    description: str = Field(default="", max_length=255, pattern=EC2_TEXT)

    @model_validator(mode="after")
    def _range(self) -> Port:
        if self.to_port is not None and self.to_port < self.port:
            raise ValueError(f"to_port {self.to_port} is below port {self.port}")
        return self

    @property
    def last(self) -> int:
        return self.to_port or self.port

    def overlaps(self, other: Port) -> bool:
        return self.protocol == other.protocol and self.port <= other.last and other.port <= self.last

    @property
    def label(self) -> str:
        return f"{self.port}" if self.to_port is None else f"{self.port}-{self.to_port}"


VolumeType = Literal["gp3", "gp2", "io1", "io2", "st1", "sc1"]


class LayerVolume(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    mount_point: str = Field(pattern=r"^/[^\s]*$")
    size_gb: int = Field(ge=1, le=16384)
    type: VolumeType = "gp3"
    encrypted: bool = True
    iops: int | None = None
    throughput: int | None = None


class LayerLoadBalancer(_Strict):
    port: int = Field(ge=1, le=65535)
    health_check_path: str = "/"


class Backends(_Strict):
    attribute: str                 # processes per instance: a number, or auto (the instance's vCPUs, at most `max`)
    threads: str | None = None     # threads per process (a frontend's per-server maxconn follows it)
    max: int = Field(ge=1, le=1000)   # the most processes an instance runs: as many as the ports the layer opens


# the parts of an app record a configure may read (stackkit.cluster.state.configure_apps); the rest of the record
# (name, layers, deploy_to, deployed_here) follows the app's layers, which decide which apps it sees at all
APP_PARTS = ("source", "domains", "ssl", "environment", "secret_environment", "data_source")


class ConfigureReads(_Strict):
    """What a layer's configure reads of the apps: only a change there re-runs it (an unread part is left out of its
    view). `apps`: behind (deployed to the layers it watches), here (deployed to this instance), all, or none.
    `parts`: of APP_PARTS; `environment` is only the variables the layer's reads_environment declares."""

    apps: Literal["behind", "here", "all", "none"]
    parts: list[Literal["source", "domains", "ssl", "environment", "secret_environment", "data_source"]] = []


class User(_Strict):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_-]*$")
    home: str | None = None
    system: bool = True
    shell: str = "/usr/sbin/nologin"


class TemplateSpec(_Strict):
    src: str
    dest: str = Field(pattern=r"^/[^\s]*$")
    events: list[Event] = Field(min_length=1)
    mode: str | None = Field(default=None, pattern=r"^0[0-7]{3}$")
    owner: str | None = None


class LayerSpec(_Strict):
    name: str = ""
    description: str
    packages: list[str] = []
    watches: list[str] = []
    requires: list[str] = []          # layers an instance carrying this one must carry too
    tls: bool = False
    ports: list[Port] = []
    volumes: list[LayerVolume] = []
    load_balancer: LayerLoadBalancer | None = None
    backends: Backends | None = None
    users: list[User] = []
    templates: list[TemplateSpec] = []
    attributes: dict[str, Any] = {}
    types: dict[str, dict[str, Any]] = {}   # dotted attribute -> its type (stackkit.config.attribute_types)
    # app environment variables the layer's templates read into daemon configs (not only into the app's own
    # environment), each with its type: checked at load in every app of the stack (stackkit.config.attribute_types)
    reads_environment: dict[str, dict[str, Any]] = {}
    # what its configure reads of the apps; not declared: every part of every app (as OpsWorks handed everything)
    configure_reads: ConfigureReads | None = None
    scripts: dict[str, str] = Field(default_factory=dict, exclude=True)

    @property
    def watches_all(self) -> bool:
        return "*" in self.watches

    def volume(self, name: str) -> LayerVolume | None:
        return next((v for v in self.volumes if v.name == name), None)


def load_layer_specs(layers_dir: Path) -> tuple[dict[str, LayerSpec], list[str]]:
    """Read every layers/<name>/layer.yaml. Returns the specs and the problems found (with their file paths)."""
    specs: dict[str, LayerSpec] = {}
    problems: list[str] = []
    for path in sorted(layers_dir.glob("*/layer.yaml")):
        name = path.parent.name
        where = f"layers/{name}/layer.yaml"
        try:
            raw = parse_yaml(path.read_text(encoding="utf-8"), where) or {}
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{where}: cannot be read as UTF-8 text ({exc})")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a mapping of layer settings")
            continue
        scripts = {e: f"{name}/{e}.sh.j2" for e in EVENTS if (path.parent / f"{e}.sh.j2").exists()}
        try:
            spec = LayerSpec.model_validate({**raw, "name": name, "scripts": scripts})
        except ValidationError as exc:
            problems.extend(format_validation_error(exc, where))
            continue
        for t in spec.templates:
            if not (path.parent / t.src).exists():
                problems.append(f"{where}: templates: {t.src} does not exist in layers/{name}/")
        problems.extend(layer_type_problems(spec, where))
        specs[name] = spec
    return specs, problems


def layer_type_problems(spec: LayerSpec, where: str) -> list[str]:
    """A layer's own defaults against its types: every default has a type, every type a default, each default fits."""
    problems = []
    defaults = dict(attribute_leaves(spec.attributes))
    for name, t in sorted(spec.types.items()):
        problem = type_problem(t)
        if problem:
            problems.append(f"{where}: types.{name}: {problem}")
        elif name not in defaults:
            problems.append(f"{where}: types.{name}: no such attribute under attributes:; add its default")
        else:
            bad = value_problem(t, defaults[name])
            if bad:
                problems.append(f"{where}: attributes.{name}: the default {bad}")
    for name, t in sorted(spec.reads_environment.items()):
        problem = type_problem(t)
        if problem:
            problems.append(f"{where}: reads_environment.{name}: {problem}")
    if spec.backends is not None:
        t = spec.types.get(spec.backends.attribute, {})
        if t.get("max") != spec.backends.max:
            problems.append(f"{where}: types.{spec.backends.attribute}: its max ({t.get('max')}) must be backends.max "
                            f"({spec.backends.max}), the most processes an instance runs")
    for name in sorted(set(defaults) - set(spec.types)):
        problems.append(f"{where}: attributes.{name}: has no type; declare it under types: (e.g. {name}: {{type: int}})")
    return problems
