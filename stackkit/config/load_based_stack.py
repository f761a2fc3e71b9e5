"""Time- and load-based instances in a whole stack: the load-time checks against the rest of the stack, the layers that
get scaling alarms, the scaling function's settings and an instance's settle input. The models are in
stackkit.config.load_based (a floor below stackkit.config.models)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stackkit.config.instance_types import recoverable
from stackkit.config.layerspec import LayerSpec
from stackkit.config.load_based import DIRECTIONS, MAX_LAYER_INSTANCES, Threshold, alarm_name
from stackkit.config.models import StackConfig
from stackkit.config.placement import bastion


def scaling_problems(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Time- and load-based instances against the rest of the stack: one 'path: problem; fix' line each."""
    jump = bastion(cfg, specs)
    for iname, inst in sorted(cfg.instances.items()):
        where = f"instances.{iname}"
        if inst.schedule is not None and inst.load_based:
            yield (f"{where}: an instance is time-based (schedule) or load-based (load_based), not both, as in "
                   "OpsWorks; remove one")
        if inst.schedule is None and not inst.load_based:
            continue
        key = "schedule" if inst.schedule is not None else "load_based"
        if iname == jump:
            yield (f"{where}.{key}: {iname} is the bastion every SSH connection to the private instances goes through; "
                   "it must always run: pick another public instance as stack.network.bastion or keep this one 24/7")
        if not recoverable(inst.type):
            yield (f"{where}.{key}: {inst.type} has instance store volumes, which lose their data when the instance "
                   "stops; use a type without instance store (e.g. t3, m7i, c7i)")
        if inst.load_based:
            scaled = [la for la in inst.layers if la in cfg.layers and cfg.layers[la].load_based is not None]
            if not scaled:
                yield (f"{where}.load_based: none of its layers ({', '.join(inst.layers)}) has load_based thresholds; "
                       f"add layers.{inst.layers[0]}.load_based (up/down) or remove load_based here")
            elif len(scaled) > 1:
                yield (f"{where}.load_based: layers {' and '.join(scaled)} both scale on load, so it is unclear whose "
                       "alarms start and stop it; keep load_based on one of them")
    for lname, layer in sorted(cfg.layers.items()):
        if layer.load_based is None:
            continue
        members = cfg.layer_instances(lname)
        if len(members) > MAX_LAYER_INSTANCES:
            yield (f"layers.{lname}.load_based: the layer has {len(members)} instances; its average CPU is a CloudWatch "
                   f"metric math alarm over one metric per instance, at most {MAX_LAYER_INSTANCES} (a hard limit); "
                   "split the layer or remove load_based")


def scaled_layers(cfg: StackConfig) -> list[str]:
    """The layers that get alarms: load_based thresholds and at least one load-based instance (a layer whose last
    load-based instance was removed keeps its thresholds for later, with no alarm: the plan warns)."""
    return [la for la, s in sorted(cfg.layers.items())
            if s.load_based is not None and any(load_based_layer(cfg, i) == la for i in cfg.layer_instances(la))]


def scaler_settings(cfg: StackConfig) -> dict[str, Any]:
    """What the scaling function reads from its STACKKIT_SCALING environment variable (stackkit.scaling.aws)."""
    alarms: dict[str, dict[str, Any]] = {}
    for lname in scaled_layers(cfg):
        lb = cfg.layers[lname].load_based
        assert lb is not None
        for direction in DIRECTIONS:
            t: Threshold = getattr(lb, direction)
            alarms[alarm_name(cfg.stack.name, lname, direction)] = {
                "layer": lname, "direction": direction, "instances": t.instances, "ignore_minutes": lb.ignore_minutes}
    return {"stack": cfg.stack.name, "alarms": alarms}


def load_based_layer(cfg: StackConfig, instance: str) -> str | None:
    """The layer whose alarms start and stop this instance, or None (24/7 or time-based)."""
    inst = cfg.instances[instance]
    if not inst.load_based:
        return None
    return next((la for la in inst.layers if la in cfg.layers and cfg.layers[la].load_based is not None), None)


def gate_payload(cfg: StackConfig, instance: str) -> dict[str, Any] | None:
    """A time- or load-based instance's settle input besides its id: its schedule's time zone and on-hours (it stays
    on after an up inside them), or no schedule (load-based: stopped again); None for a 24/7 instance."""
    inst = cfg.instances[instance]
    if inst.schedule is not None:
        return {"timezone": inst.schedule.timezone, "hours": sorted(inst.schedule.hours())}
    if load_based_layer(cfg, instance) is not None:
        return {"timezone": None, "hours": None}
    return None
