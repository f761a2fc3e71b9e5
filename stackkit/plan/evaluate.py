"""Evaluate the Pulumi program (__main__.py) for a stack file under Pulumi's own mock runtime: no AWS account, no
Pulumi CLI. The result is every resource the engine would receive, with its wire-format inputs and its options.

The tests, the offline `plan`, the lifecycle diff and `stackkit local` all use this one evaluator.
"""

from __future__ import annotations

import copy
import runpy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.errors import ConfigError, DataMoveError, PlanError
from stackkit.paths import ROOT, use_layers_of
from stackkit.plan.mocks import RecordingMonitor, Registration, StackkitMocks, is_secret
from stackkit.plan.runtime import run_with_mocks, young_gc_only

PROGRAM = ROOT / "__main__.py"
PROJECT = "stackkit"


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        if is_secret(value):
            return "[secret]"
        return {k: _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if is_secret(value):
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


@dataclass
class Resource:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]                      # wire format, secrets replaced by "[secret]"
    options: dict[str, Any]
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict, repr=False)
    secret_inputs: dict[str, Any] = field(default_factory=dict, repr=False)   # the real values: internal only

    @property
    def dependencies(self) -> set[str]:
        deps = set(self.options["dependsOn"])
        for urns in self.property_dependencies.values():
            deps.update(urns)
        return deps

    def to_json(self) -> dict[str, Any]:
        """What `plan --json` prints: no real secret values."""
        return {"urn": self.urn, "type": self.type, "name": self.name, "parent": self.parent or None,
                "custom": self.custom, "inputs": self.inputs, "options": self.options}

    def to_record(self) -> dict[str, Any]:
        """The whole resource, real secret values included: for stackkit's own state files (0600), never printed."""
        return {**self.to_json(), "parent": self.parent, "id": self.id, "secret_inputs": self.secret_inputs,
                "property_dependencies": self.property_dependencies}

    @classmethod
    def from_record(cls, d: dict[str, Any]) -> Resource:
        """Back from `to_record` (or from an older revision's dump: the same keys)."""
        return cls(urn=d["urn"], type=d["type"], name=d["name"], parent=d["parent"] or "", custom=d["custom"],
                   inputs=d["inputs"], options=d["options"], property_dependencies=d["property_dependencies"],
                   id=d.get("id", ""), secret_inputs=d["secret_inputs"])


@dataclass
class Plan:
    stack: str
    project: str
    resources: list[Resource]
    outputs: dict[str, Any] = field(default_factory=dict)     # the stack's outputs (pulumi.export), wire format

    def to_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "project": self.project, "resources": [r.to_json() for r in self.resources]}

    def by_urn(self) -> dict[str, Resource]:
        return {r.urn: r for r in self.resources}

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def named(self, name: str, typ: str | None = None) -> Resource:
        found = [r for r in self.resources if r.name == name and (typ is None or r.type == typ)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}" + (f" of type {typ}" if typ else ""))
        return found[0]


def evaluate(stack: str | Path | StackFile, *, overrides: dict[str, Any] | None = None,
             addresses: dict[str, tuple[str, str]] | None = None, program: Path = PROGRAM,
             stack_name: str | None = None, previous_outputs: dict[str, Any] | None = None) -> Plan:
    """Run the program for a stack file under mocks.

    `stack` is a stack name (Pulumi.<stack>.yaml at the repo root), a path, or a read StackFile. `overrides` replaces
    whole config keys ({'stackkit:instances': {...}}); `addresses` pins instances' (private, public) IPs; `stack_name`
    evaluates the file as another stack (an older copy of a stack file compared with the current one);
    `previous_outputs` are the stack's outputs as the engine's checkpoint would hold them (another plan's `outputs`):
    an edit that would move or lose data they list raises DataMoveError, as `pulumi up` refuses it.
    """
    sf = stack if isinstance(stack, StackFile) else read_stack_file(
        Path(stack) if isinstance(stack, Path) or str(stack).endswith(".yaml") else ROOT / f"Pulumi.{stack}.yaml")
    use_layers_of(sf.path)      # the layers beside the stack file first, as `pulumi up` in its project finds them
    config = copy.deepcopy(sf.config)
    config.update(overrides or {})
    # validated once, by the program itself (stackkit.program): a bad config raises ConfigError before anything is
    # registered, named after this file
    region = str(config.get("aws:region", "us-east-1"))
    return _run(stack_name or sf.stack, config, sf.secret_keys, region, addresses, program, str(sf.path),
                previous_outputs)


def _run(stack: str, config: dict[str, Any], secret_keys: frozenset[str], region: str,
         addresses: dict[str, tuple[str, str]] | None, program: Path, source: str,
         previous_outputs: dict[str, Any] | None = None) -> Plan:
    mocks = StackkitMocks(region, addresses, previous_outputs)
    monitor = RecordingMonitor(mocks)

    def main() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        run_with_mocks(main, mocks, monitor, project=PROJECT, stack=stack, config=config,
                       secret_keys=sorted(secret_keys))
    except pulumi.RunError as exc:
        # the program's Refused (stackkit.program) keeps the StackkitError it refused with as data, in `error`
        error = getattr(exc, "error", None)
        if isinstance(error, DataMoveError):
            raise DataMoveError(error.problems, source) from None
        if isinstance(error, ConfigError):
            raise ConfigError(error.problems, source) from None
        raise PlanError(f"{source}: {exc}") from None
    with young_gc_only():       # the run's registrations are all alive: full collections would find nothing
        return Plan(stack=stack, project=PROJECT, resources=[_resource(r) for r in monitor.registrations],
                    outputs=_unwrap(monitor.stack_outputs))


def _resource(r: Registration) -> Resource:
    return Resource(urn=r.urn, type=r.type, name=r.name, parent=r.parent, custom=r.custom,
                    inputs=_redact(r.inputs), options=r.options, property_dependencies=r.property_dependencies,
                    id=r.id, state=r.state, secret_inputs=_unwrap(r.inputs))
