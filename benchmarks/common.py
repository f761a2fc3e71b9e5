"""Shared helpers of the benchmarks: stacks of any size, built from the shipped production stack."""

from __future__ import annotations

import copy
import json
from typing import Any

from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.paths import ROOT
from stackkit.plan.evaluate import Plan


def production() -> StackFile:
    return read_stack_file(ROOT / "Pulumi.production.yaml")


def with_config(sf: StackFile, config: dict[str, Any]) -> StackFile:
    return StackFile(sf.path, config, sf.secret_keys, sf.placeholders)


def sized(n: int) -> StackFile:
    """Production with n instances: 2 frontends, 1 zeoserver + maintenance, n - 3 plone instances.

    A cluster grows by its application servers; frontends and the ZEO server stay few. (Growing every layer in
    proportion would make each frontend's haproxy list grow with the stack too: quadratic by nature, whatever the tool.)
    """
    sf = production()
    config = copy.deepcopy(sf.config)
    instances = {"web1": {"layers": ["frontend"], "az": 0}, "web2": {"layers": ["frontend"], "az": 1},
                 "db1": {"layers": ["zeoserver", "maintenance"], "type": "m6i.large", "az": 0}}
    for i in range(1, n - 2):
        instances[f"app{i}"] = {"layers": ["plone"], "type": "t3.large", "az": i % 2}
    config["stackkit:instances"] = instances
    # no load-based layer: CloudWatch's metric math caps one at 10 instances (production's plone layer is load-based)
    for layer in config["stackkit:layers"].values():
        layer.pop("load_based", None)
    return with_config(sf, config)


def command_input_bytes(plan: Plan) -> int:
    return sum(len(json.dumps(r.secret_inputs, sort_keys=True)) for r in plan.of_type("command:remote:Command"))
