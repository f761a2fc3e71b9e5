"""Where each instance sits in the network, decided from the config alone (pure).

Public: the instance carries a layer with a port `from: internet`, or has an Elastic IP (its layer's `elastic_ips`
or its own `elastic_ip`). It goes to its AZ's public subnet with a public IP.
Private: every other instance. It goes to its AZ's private subnet without a public IP; its egress is the NAT
(`stack.network.nat`) and SSH reaches it through the bastion, a public instance of the stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackkit.config.layerspec import LayerSpec
from stackkit.config.models import StackConfig


@dataclass(frozen=True)
class Placement:
    public: dict[str, bool]          # instance name -> public
    bastion: str | None


# The placement of the last few (config, layer specs) pairs, by identity: the program asks for the bastion once per
# lifecycle command, and recomputing it each time walked every instance's layers and ports (quadratic in the stack's
# size: 1.3 million is_public calls at 400 instances). A validated config is never changed after loading (`Loaded`
# is frozen, and nothing assigns to a model), and the pairs are held here, so an id is never reused while cached.
_PLACED: list[tuple[StackConfig, dict[str, LayerSpec], Placement]] = []
_KEEP = 4


def _public(cfg: StackConfig, specs: dict[str, LayerSpec], instance: str) -> bool:
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


def placement(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Placement:
    for placed_cfg, placed_specs, placed in _PLACED:
        if placed_cfg is cfg and placed_specs is specs:
            return placed
    public = {n: _public(cfg, specs, n) for n in cfg.instances}
    placed = Placement(public=public, bastion=_bastion(cfg, public))
    _PLACED.insert(0, (cfg, specs, placed))
    del _PLACED[_KEEP:]
    return placed


def is_public(cfg: StackConfig, specs: dict[str, LayerSpec], instance: str) -> bool:
    return placement(cfg, specs).public[instance]


def public_instances(cfg: StackConfig, specs: dict[str, LayerSpec]) -> list[str]:
    return sorted(n for n, public in placement(cfg, specs).public.items() if public)


def private_instances(cfg: StackConfig, specs: dict[str, LayerSpec]) -> list[str]:
    return sorted(n for n, public in placement(cfg, specs).public.items() if not public)


def bastion(cfg: StackConfig, specs: dict[str, LayerSpec], previous: str | None = None) -> str | None:
    """The public instance SSH to the private ones goes through: stack.network.bastion; else the one the last
    deployment used (`previous`, the stack's `bastion` output), while it is still a public instance of the stack, so
    that adding a public instance never moves it (each private instance's every command would change its connection);
    else the first public instance by name. None when no instance is private (nothing to jump to) or none is public
    (a load-time error)."""
    placed = placement(cfg, specs)
    if placed.bastion is None or cfg.stack.network.bastion is not None:
        return placed.bastion
    return previous if previous is not None and placed.public.get(previous) else placed.bastion


def _bastion(cfg: StackConfig, public: dict[str, bool]) -> str | None:
    if all(public.values()):
        return None
    chosen = cfg.stack.network.bastion
    if chosen is not None:
        return chosen if public.get(chosen) else None
    return min((n for n, p in public.items() if p), default=None)
