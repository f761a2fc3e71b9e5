"""What holds data in a stack, and the config edits that would move or lose it.

A holder is a resource a config edit must never lose in passing: a layer's EBS volume on an instance, a registered
volume, an Elastic IP (people's DNS points at it), an RDS database. Each has a label, the config path that decides it:

    instances.<instance>.volumes.<volume>   a layer's volume on that instance (layer.yaml `volumes:`)
    instances.<instance>.elastic_ip         the address a layer with `elastic_ips: true` auto-assigns to it
    resources.volumes.<name>                a registered volume
    resources.elastic_ips.<name>            a registered Elastic IP
    resources.databases.<name>              a registered database

The Stack exports `holders(loaded)` as the stack output `data_holders`. Before registering anything, the program
reads the previous deployment's value of that output and refuses the edit if `data_moves` finds a problem: the engine
would otherwise run the new instances' setup and every configure first, and stop only at the protected delete at the
end. A holder the user means to let go is listed in `stack.retire`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stackkit.config.load import Loaded

HOLDERS_OUTPUT = "data_holders"
DOCS = "docs/lifecycle.md, 'What stackkit refuses to do to your data'"

# the inputs whose change makes the engine replace the holder with a new, empty one (stackkit.aws.replacement,
# from terraform-provider-aws' ForceNew): holder field -> the provider's input
REPLACED_BY = {
    "volume": {"az": "availabilityZone", "encrypted": "encrypted"},
    "database": {"engine": "engine", "username": "username", "name": "dbName"},
}
PROVIDER_TYPE = {"volume": "aws:ebs/volume:Volume", "database": "aws:rds/instance:Instance"}
Holders = dict[str, dict[str, Any]]


def holders(loaded: Loaded) -> Holders:
    """Every data holder the config declares, by label: {kind, instance, layer, mount_point, replaced_by}."""
    cfg = loaded.config
    out: Holders = {}
    for iname, inst in sorted(cfg.instances.items()):
        for la in inst.layers:
            for v in loaded.specs[la].volumes:
                over = cfg.layers[la].volumes.get(v.name)
                encrypted = over.encrypted if over is not None and over.encrypted is not None else v.encrypted
                out[f"instances.{iname}.volumes.{v.name}"] = {
                    "kind": "volume", "instance": iname, "layer": la, "mount_point": v.mount_point,
                    "replaced_by": {"az": inst.az, "encrypted": encrypted}}
        if inst.elastic_ip is None and any(cfg.layers[la].elastic_ips for la in inst.layers):
            out[f"instances.{iname}.elastic_ip"] = {"kind": "elastic_ip", "instance": iname, "layer": None,
                                                    "mount_point": None, "replaced_by": {}}
    for n, rv in sorted(cfg.resources.volumes.items()):
        az = rv.az if rv.az is not None else cfg.instances[rv.instance].az
        out[f"resources.volumes.{n}"] = {"kind": "volume", "instance": rv.instance, "layer": None,
                                         "mount_point": rv.mount_point,
                                         "replaced_by": {"az": az, "encrypted": rv.encrypted}}
    for n in sorted(cfg.resources.elastic_ips):
        out[f"resources.elastic_ips.{n}"] = {"kind": "elastic_ip", "instance": None, "layer": None,
                                             "mount_point": None, "replaced_by": {}}
    for n, db in sorted(cfg.resources.databases.items()):
        out[f"resources.databases.{n}"] = {"kind": "database", "instance": None, "layer": None, "mount_point": None,
                                           "replaced_by": {"engine": db.engine, "username": db.username,
                                                           "name": db.name}}
    return out


def _what(label: str, h: Mapping[str, Any], with_layer: bool = True) -> str:
    if h["kind"] == "volume":
        where = f"layer {h['layer']}, " if h.get("layer") and with_layer else ""
        return f"volume {label.rsplit('.', 1)[-1]} ({where}{h['mount_point']})"
    if h["kind"] == "elastic_ip":
        return "its Elastic IP" if label.startswith("instances.") else "the Elastic IP"
    return "the database"


def _retire(label: str, kind: str) -> str:
    gone = {"volume": "delete its data", "elastic_ip": "let the address go (it stays allocated in your account)",
            "database": "delete it (set its deletion_protection: false first; a final snapshot is taken)"}[kind]
    return f"to {gone}, list {label} in stack.retire and unprotect it ({DOCS})"


def _renamed_to(old: str, previous: Mapping[str, Any], loaded: Loaded, prev_layers: set[str]) -> list[str]:
    """New instances carrying the layers whose data `old` held: what a rename of `old` looks like."""
    before = {str(h["instance"]) for h in previous.values() if h.get("instance")}
    return sorted(n for n, i in loaded.config.instances.items()
                  if n not in before and prev_layers and prev_layers <= set(i.layers))


def _plain(value: Any) -> Any:
    """A number read back from the stack outputs (a protobuf double) as the config wrote it: 0.0 -> 0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def data_moves(previous: Mapping[str, Any] | None, loaded: Loaded) -> list[str]:
    """The problems of going from the previous deployment's holders to `loaded`: one 'path: problem; fix' line each.
    No previous holders (a first deployment, or one made before stackkit exported them): nothing to compare."""
    if not previous:
        return []
    cfg = loaded.config
    current = holders(loaded)
    retired = set(cfg.stack.retire)
    problems: list[str] = []
    gone_instances: dict[str, list[str]] = {}
    for label, prev in sorted(previous.items()):
        if label in retired:
            continue
        cur = current.get(label)
        kind, inst = prev["kind"], prev.get("instance")
        if cur is None:
            if label.startswith("instances.") and inst not in cfg.instances:
                gone_instances.setdefault(str(inst), []).append(label)
            elif label.startswith("instances.") and prev["kind"] == "volume":
                layer = prev["layer"]
                if layer in cfg.instances[str(inst)].layers:
                    problems.append(f"layers/{layer}/layer.yaml volumes: no longer defines {_what(label, prev)}, which "
                                    f"holds data on {inst}: restore it; {_retire(label, kind)}")
                else:
                    problems.append(f"instances.{inst}.layers: drops layer {layer}, whose "
                                    f"{_what(label, prev, with_layer=False)} holds "
                                    f"data on {inst}: keep the layer; {_retire(label, kind)}")
            elif label.startswith("instances."):
                problems.append(f"instances.{inst}: no longer gets an auto-assigned Elastic IP (its layers' "
                                "elastic_ips are off, or it now uses a registered one): the address leaves the stack; "
                                f"to keep it, register it under resources.elastic_ips with its import_id; "
                                f"{_retire(label, kind)}")
            else:
                problems.append(f"{label}: removed, but the last deployment keeps {_what(label, prev)}"
                                + (f" (attached to {inst})" if inst else "")
                                + f": put it back; {_retire(label, kind)}")
            continue
        if kind == "volume" and cur["instance"] != inst:
            problems.append(f"{label}.instance: moves the volume from {inst} to {cur['instance']} in one up: the new "
                            f"instance would attach it while {inst} still has it mounted; move it by the procedure "
                            f"in {DOCS}")
            continue
        for field_, value in sorted(prev.get("replaced_by", {}).items()):
            value = _plain(value)
            if cur["replaced_by"].get(field_) != value:
                path = _replaced_path(label, prev, field_)
                new = json.dumps(cur["replaced_by"].get(field_))
                problems.append(f"{path}: changing {field_} from {json.dumps(value)} to {new} "
                                f"replaces {_what(label, prev)} with an empty one ({REPLACED_BY[kind][field_]} "
                                f"forces a new {PROVIDER_TYPE[kind]}): revert it; to move the data see {DOCS}")
    for inst, labels in sorted(gone_instances.items()):
        held = ", ".join(_what(lb, previous[lb]) for lb in labels)
        layers = {str(previous[lb]["layer"]) for lb in labels if previous[lb].get("layer")}
        hint = "; ".join(f"to rename {inst} to {n}, keep instances.{inst} and set instances.{inst}.hostname: {n}"
                         for n in _renamed_to(inst, previous, loaded, layers))
        retire = ", ".join(labels)
        problems.append(f"instances.{inst}: removed (or renamed), but the last deployment keeps {held} on it, "
                        "protected: the up would run the other changes and fail at their delete; keep it"
                        + (f" ({hint})" if hint else "")
                        + f"; to let it go, list {retire} in stack.retire and unprotect "
                        + ("them" if len(labels) > 1 else "it") + f" ({DOCS})")
    return problems


def _replaced_path(label: str, prev: Mapping[str, Any], field_: str) -> str:
    if label.startswith("instances."):
        if field_ == "az":
            return f"instances.{prev['instance']}.az"
        return f"layers.{prev['layer']}.volumes.{label.rsplit('.', 1)[-1]}.{field_}"
    return f"{label}.{field_}"


def stale_retirements(previous: Mapping[str, Any] | None, loaded: Loaded) -> list[str]:
    """stack.retire entries that retire nothing: held by the config again, or not held by the last deployment."""
    current = holders(loaded)
    out = []
    for label in loaded.config.stack.retire:
        if label in current:
            out.append(f"stack.retire: {label} is still in the config, so nothing retires it; remove the entry")
        elif previous is not None and label not in previous:
            out.append(f"stack.retire: {label} is not held by the last deployment (already gone); remove the entry")
    return out
