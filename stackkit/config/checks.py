"""Cross-reference checks over a validated StackConfig and the layer specs: one 'path: problem; fix' line each."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from stackkit.config.attribute_types import attribute_types, environment_types
from stackkit.config.attributes import deep_merge, lookup
from stackkit.config.instance_types import vcpus
from stackkit.config.layerspec import LayerSpec
from stackkit.config.load_based_stack import scaling_problems
from stackkit.config.models import StackConfig
from stackkit.config.placement import private_instances, public_instances
from stackkit.config.user_checks import user_problems

Check = Callable[[StackConfig, dict[str, LayerSpec]], Iterator[str]]


def _known(names: object) -> str:
    return ", ".join(sorted(names))  # type: ignore[call-overload]


def layers_exist(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for name in cfg.layers:
        if name not in specs:
            yield f"layers.{name}: no layer folder layers/{name}/ (known: {_known(specs)})"


def references(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    known = cfg.layers.keys()
    for iname, inst in cfg.instances.items():
        for i, layer in enumerate(inst.layers):
            if layer not in known:
                yield f"instances.{iname}.layers[{i}]: unknown layer '{layer}' (known: {_known(known)})"
        if len(set(inst.layers)) != len(inst.layers):
            yield f"instances.{iname}.layers: lists a layer twice"
        if inst.az >= cfg.stack.network.az_count:
            yield (f"instances.{iname}.az: {inst.az} is out of range: the stack spans {cfg.stack.network.az_count} AZs "
                   f"(0-{cfg.stack.network.az_count - 1}); raise stack.network.az_count or pick another")
        if inst.elastic_ip is not None and inst.elastic_ip not in cfg.resources.elastic_ips:
            yield (f"instances.{iname}.elastic_ip: unknown Elastic IP '{inst.elastic_ip}' "
                   f"(registered: {_known(cfg.resources.elastic_ips) or 'none'}); add it under resources.elastic_ips")
    for aname, app in cfg.apps.items():
        for i, layer in enumerate(app.layers):
            if layer not in known:
                yield f"apps.{aname}.layers[{i}]: unknown layer '{layer}' (known: {_known(known)})"
        if app.data_source is not None and app.data_source not in cfg.resources.databases:
            yield (f"apps.{aname}.data_source: unknown database '{app.data_source}' "
                   f"(registered: {_known(cfg.resources.databases) or 'none'}); add it under resources.databases")
        for i, target in enumerate(app.redeploy.instances):
            if target not in cfg.instances:
                yield f"apps.{aname}.redeploy.instances[{i}]: unknown instance '{target}' (known: {_known(cfg.instances)})"
            elif not set(cfg.instances[target].layers) & set(app.layers):
                yield (f"apps.{aname}.redeploy.instances[{i}]: instance '{target}' carries none of the app's layers "
                       f"({', '.join(app.layers)})")
        if app.ssl is not None and not app.domains:
            yield f"apps.{aname}.ssl: a certificate needs the domains it serves; add apps.{aname}.domains"
    for vname, vol in cfg.resources.volumes.items():
        if vol.instance not in cfg.instances:
            yield f"resources.volumes.{vname}.instance: unknown instance '{vol.instance}' (known: {_known(cfg.instances)})"
        elif vol.az is not None and vol.az != cfg.instances[vol.instance].az:
            yield (f"resources.volumes.{vname}.az: the volume is in AZ {vol.az} but instance '{vol.instance}' is in AZ "
                   f"{cfg.instances[vol.instance].az}; an EBS volume attaches only within its AZ: move one of them")


def volume_overrides(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for lname, layer in cfg.layers.items():
        spec = specs.get(lname)
        if spec is None:
            continue
        for vname in layer.volumes:
            if spec.volume(vname) is None:
                yield (f"layers.{lname}.volumes.{vname}: layer {lname} has no volume '{vname}' "
                       f"(its volumes: {_known(v.name for v in spec.volumes) or 'none'})")
        if layer.load_balancer is not None and spec.load_balancer is None:
            yield (f"layers.{lname}.load_balancer: layer {lname} cannot sit behind a load balancer "
                   "(its layer.yaml has no load_balancer); remove it")


def elastic_ips(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    claimed: dict[str, str] = {}
    for iname in sorted(cfg.instances):
        eip = cfg.instances[iname].elastic_ip
        if eip is None:
            continue
        if eip in claimed:
            yield (f"instances.{iname}.elastic_ip: Elastic IP '{eip}' is already claimed by instances.{claimed[eip]}; "
                   "an Elastic IP belongs to one instance")
        else:
            claimed[eip] = iname


def colocation(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for iname, inst in cfg.instances.items():
        for la in inst.layers:
            for needed in specs[la].requires if la in specs else []:
                if needed not in inst.layers:
                    yield (f"instances.{iname}.layers: layer {la} must share its instance with layer {needed} "
                           f"(layers/{la}/layer.yaml: requires); add {needed} to this instance or remove {la}")


def load_balancers(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for lname, layer in cfg.layers.items():
        if layer.load_balancer is not None and not cfg.layer_instances(lname):
            yield (f"layers.{lname}.load_balancer: the layer has a load balancer but no instance carries it; "
                   f"add an instance with layers: [{lname}] or remove load_balancer")


def hostnames(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    seen: dict[str, str] = {}
    for iname in sorted(cfg.instances):
        host = cfg.hostname(iname)
        if host in seen:
            yield f"instances.{iname}.hostname: '{host}' is already the hostname of instances.{seen[host]}; hostnames are unique"
        else:
            seen[host] = iname


def ports(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for iname, inst in cfg.instances.items():
        layers = [la for la in inst.layers if la in specs]
        for i, a in enumerate(layers):
            for b in layers[i + 1:]:
                for pa in specs[a].ports:
                    for pb in specs[b].ports:
                        if pa.overlaps(pb):
                            yield (f"instances.{iname}.layers: layers {a} and {b} both want port {pa.label}/{pa.protocol} "
                                   f"({b}: {pb.label}); put them on different instances")


def volumes_per_instance(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for iname, inst in cfg.instances.items():
        mounts: dict[str, str] = {}
        for la in inst.layers:
            for vol in specs[la].volumes if la in specs else []:
                owner = f"layer {la} volume {vol.name}"
                if vol.mount_point in mounts:
                    yield f"instances.{iname}.layers: {owner} and {mounts[vol.mount_point]} both mount {vol.mount_point}"
                mounts[vol.mount_point] = owner
        for vname, rvol in sorted(cfg.resources.volumes.items()):
            if rvol.instance == iname:
                if rvol.mount_point in mounts:
                    yield (f"resources.volumes.{vname}.mount_point: {rvol.mount_point} is already the mount point of "
                           f"{mounts[rvol.mount_point]} on instance {iname}")
                mounts[rvol.mount_point] = f"resources.volumes.{vname}"


def databases(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for dname in cfg.resources.databases:
        if not cfg.database_users(dname):
            yield (f"resources.databases.{dname}: used by no layer; set apps.<app>.data_source: {dname} "
                   "or remove the database")


def backends(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    for iname, inst in cfg.instances.items():
        for la in inst.layers:
            spec = specs.get(la)
            if spec is None or spec.backends is None:
                continue
            attrs = merged_attributes(cfg, specs, iname)
            value = lookup(attrs, spec.backends.attribute)
            if value == "auto" and vcpus(inst.type) is None:
                yield (f"instances.{iname}.type: the vCPU count of '{inst.type}' is unknown to stackkit, so "
                       f"{spec.backends.attribute}: auto cannot be worked out; set instances.{iname}.attributes."
                       f"{spec.backends.attribute} to a number")
            # a number: its range is the attribute's type (layer.yaml types:), checked where it is set


def network(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Private instances need a public instance to reach them over SSH and, in a VPC stackkit creates, a NAT."""
    net = cfg.stack.network
    private, public = private_instances(cfg, specs), public_instances(cfg, specs)
    if net.bastion is not None:
        if net.bastion not in cfg.instances:
            yield (f"stack.network.bastion: unknown instance '{net.bastion}' "
                   f"(public instances: {_known(public) or 'none'})")
        elif net.bastion not in public:
            yield (f"stack.network.bastion: instance '{net.bastion}' is private (no layer with a port from the internet, "
                   f"no Elastic IP), so SSH cannot reach it; pick a public instance ({_known(public) or 'none'})")
    if private and not public:
        yield (f"instances: {', '.join(private)} would sit in private subnets and no instance is public to reach them "
               "over SSH; add an instance carrying a layer with a port from the internet (e.g. frontend) or an "
               "Elastic IP (instances.<name>.elastic_ip)")
    if private and net.vpc_id is None and net.nat == "none":
        yield (f"stack.network.nat: none leaves the private instances ({', '.join(private)}) without a route to the "
               "internet for packages and app sources; use single (one NAT gateway) or per_az")


CHECKS: tuple[Check, ...] = (attribute_types, layers_exist, references, volume_overrides, elastic_ips, colocation,
                             load_balancers, hostnames, ports, volumes_per_instance, databases, backends, network,
                             environment_types, user_problems, scaling_problems)


def run_checks(cfg: StackConfig, specs: dict[str, LayerSpec]) -> list[str]:
    return [problem for check in CHECKS for problem in check(cfg, specs)]


def merged_attributes(cfg: StackConfig, specs: dict[str, LayerSpec], instance: str) -> dict:
    """Layer defaults < stack < layer settings < instance, over the instance's layers in their listed order."""
    inst = cfg.instances[instance]
    layers = [la for la in inst.layers if la in specs]
    return deep_merge(
        *(specs[la].attributes for la in layers),
        cfg.stack.attributes,
        *(cfg.layers[la].attributes for la in layers if la in cfg.layers),
        inst.attributes,
    )
