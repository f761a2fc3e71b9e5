"""Where each instance sits in the network, decided from the config alone (pure).

Public: the instance carries a layer with a port `from: internet`, or has an Elastic IP (its layer's `elastic_ips`
or its own `elastic_ip`). It goes to its AZ's public subnet with a public IP.
Private: every other instance. It goes to its AZ's private subnet without a public IP; its egress is the NAT
(`stack.network.nat`) and SSH reaches it through the bastion, a public instance of the stack.
"""

from __future__ import annotations

from stackkit.config.layerspec import LayerSpec
from stackkit.config.models import StackConfig


def is_public(cfg: StackConfig, specs: dict[str, LayerSpec], instance: str) -> bool:
    inst = cfg.instances[instance]
    if inst.elastic_ip is not None:
        return True
    for la in inst.layers:
        settings, spec = cfg.layers.get(la), specs.get(la)
        if settings is not None and settings.elastic_ips:
            return True
        if spec is not None and any(p.from_ == "internet" for p in spec.ports):
            return True
    return False


def public_instances(cfg: StackConfig, specs: dict[str, LayerSpec]) -> list[str]:
    return sorted(n for n in cfg.instances if is_public(cfg, specs, n))


def private_instances(cfg: StackConfig, specs: dict[str, LayerSpec]) -> list[str]:
    return sorted(n for n in cfg.instances if not is_public(cfg, specs, n))


def bastion(cfg: StackConfig, specs: dict[str, LayerSpec]) -> str | None:
    """The public instance SSH to the private ones goes through: stack.network.bastion, else the first public
    instance by name; None when no instance is private (nothing to jump to) or none is public (a load-time error)."""
    if not private_instances(cfg, specs):
        return None
    public = public_instances(cfg, specs)
    chosen = cfg.stack.network.bastion
    if chosen is not None:
        return chosen if chosen in public else None
    return public[0] if public else None
