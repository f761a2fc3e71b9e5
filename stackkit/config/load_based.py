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

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

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


DIRECTIONS = ("up", "down")


def alarm_name(stack: str, layer: str, direction: str) -> str:
    """<stack>-<layer>-scale-up|down: unique per account and region as the auto-healing alarms' names are."""
    return f"{stack}-{layer}-scale-{direction}"
