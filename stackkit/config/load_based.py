"""Load-based instances (OpsWorks' load-based automatic scaling): a layer's thresholds, and the load-time checks that
tie them to the instances that scale.

    stackkit:layers:
      plone:
        load_based: {up: {cpu: 80, minutes: 5, instances: 1}, down: {cpu: 30, minutes: 10, instances: 1},
                     ignore_minutes: 5}
    stackkit:instances:
      app4: {layers: [plone], load_based: true}

When the layer's average CPU (every instance of the layer that reports, the 24/7 ones included) stays above `up.cpu`
for `up.minutes`, the scaler starts `up.instances` of its stopped load-based instances; below `down.cpu` for
`down.minutes`, it stops `down.instances` of the running ones, the most recently started first. After each change it
ignores the alarms for `ignore_minutes`. Ranges follow OpsWorks' own (CPU 0-100 %, 1-100 minutes, 1-100 instances).

CPU only: OpsWorks' memory and load thresholds came from its own agent; EC2 publishes neither, so they would need the
CloudWatch agent on every instance, which stackkit does not install (a clear error says so).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from stackkit.config.instance_types import recoverable

if TYPE_CHECKING:
    from stackkit.config.layerspec import LayerSpec
    from stackkit.config.load import Loaded
    from stackkit.config.models import StackConfig

# CloudWatch: an alarm on a metric math expression reads at most 10 metrics (a hard limit, "Limits that apply to
# alarms based on metric math expressions"); the layer's average is one metric per instance
MAX_LAYER_INSTANCES = 10
AGENT_METRICS = {"memory": "memory", "load": "load average"}


class Threshold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu: float = Field(gt=0, lt=100)               # the layer's average CPUUtilization, percent
    minutes: int = Field(default=5, ge=1, le=100)  # for this long (1-minute periods: detailed monitoring)
    instances: int = Field(default=1, ge=1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _agent_metrics(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, what in AGENT_METRICS.items():
                if key in data:
                    raise ValueError(f"{key}: a {what} threshold needs the CloudWatch agent on every instance, which "
                                     "stackkit does not install; scale on cpu (the layer's average CPUUtilization)")
        return data


class LoadBased(BaseModel):
    model_config = ConfigDict(extra="forbid")

    up: Threshold
    down: Threshold
    ignore_minutes: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _apart(self) -> LoadBased:
        if self.down.cpu >= self.up.cpu:
            raise ValueError(f"down.cpu ({self.down.cpu:g}) must be below up.cpu ({self.up.cpu:g}), or the layer would "
                             "start and stop instances in turn; e.g. up 80, down 30")
        return self


def scaling_problems(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Time- and load-based instances against the rest of the stack: one 'path: problem; fix' line each."""
    from stackkit.config.placement import bastion

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


DIRECTIONS = ("up", "down")


def alarm_name(stack: str, layer: str, direction: str) -> str:
    """<stack>-<layer>-scale-up|down: unique per account and region as the auto-healing alarms' names are."""
    return f"{stack}-{layer}-scale-{direction}"


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


def gate_payload(loaded: Loaded, instance: str) -> dict[str, Any] | None:
    """A time- or load-based instance's settle input besides its id: its schedule's time zone and on-hours (it stays
    on after an up inside them), or no schedule (load-based: stopped again); None for a 24/7 instance."""
    inst = loaded.config.instances[instance]
    if inst.schedule is not None:
        return {"timezone": inst.schedule.timezone, "hours": sorted(inst.schedule.hours())}
    if load_based_layer(loaded.config, instance) is not None:
        return {"timezone": None, "hours": None}
    return None
