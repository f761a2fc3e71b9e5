"""Typed attributes: each layer declares, in its layer.yaml `types:`, the type of every attribute it reads.

Attributes (OpsWorks' custom JSON) are set at four levels (layer defaults < stack < layer < instance). Every value set
under a layer's namespace is checked against that layer's types at load, at the path where it was set, so a value
reaches a template only if it fits what the template does with it (a number in `sleep`, a size in nginx, a path in
haproxy). A layer cannot ship an attribute without a type: `layer_type_problems` checks defaults against types both ways.

A type is a mapping: `{type: int, min: 0, max: 300}`, `{type: bool}`, `{type: choice, of: [zeo, relstorage]}` or one of
the string kinds in `KINDS`; `nullable: true` allows null, `or: [auto]` allows those literal values too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stackkit.config.attribute_kinds import attribute_leaves, value_problem
from stackkit.config.layerspec import LayerSpec
from stackkit.config.models import StackConfig

# the top-level keys /etc/stackkit/node.json makes itself (stackkit.cluster.opsworks.node), which custom JSON joins
NODE_KEYS = ("opsworks", "deploy", "haproxy")


def attribute_types(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Every attribute value set in the stack file, checked against the type of the layer that owns its namespace."""
    owners: dict[str, LayerSpec] = {ns: layer for layer in specs.values() for ns in layer.attributes}
    sources = [("stack.attributes", cfg.stack.attributes),
               *((f"layers.{n}.attributes", la.attributes) for n, la in sorted(cfg.layers.items())),
               *((f"instances.{n}.attributes", i.attributes) for n, i in sorted(cfg.instances.items()))]
    for where, attrs in sources:
        for namespace, values in sorted(attrs.items()):
            spec = owners.get(namespace)
            if spec is None and namespace in NODE_KEYS:
                yield (f"{where}.{namespace}: node.json's '{namespace}' is made by stackkit from the stack file (apps, "
                       f"layers, instances), not merged from custom JSON; set what it holds there (an app's "
                       f"environment, a layer's attributes) or rename the key")
                continue
            if spec is None:
                continue  # custom JSON of the user's own: node.json carries it (stackkit.cluster.opsworks.node_facts)
            if not isinstance(values, dict):
                yield f"{where}.{namespace}: must be a mapping of layer {spec.name}'s attributes"
                continue
            for dotted, value in attribute_leaves(values, f"{namespace}."):
                t = spec.types.get(dotted)
                if t is None:
                    known = ", ".join(k.split(".", 1)[1] for k in sorted(spec.types) if k.startswith(namespace + "."))
                    yield (f"{where}.{dotted}: layer {spec.name} has no attribute "
                           f"'{dotted.split('.', 1)[1]}' (known: {known}); remove it or fix its spelling")
                    continue
                problem = value_problem(t, value)
                if problem:
                    yield f"{where}.{dotted}: {problem} (layers/{spec.name}/layer.yaml types: {dotted})"


def environment_types(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Every app's environment values that a layer of the stack reads into a daemon config (its layer.yaml
    `reads_environment`), checked against the type each such layer declares, at the path where they are set: one
    problem per value, naming every layer that reads it."""
    readers: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for lname in sorted(cfg.layers):
        spec = specs.get(lname)
        for var, t in sorted(spec.reads_environment.items()) if spec is not None else []:
            readers.setdefault(var, []).append((lname, t))
    for aname, app in sorted(cfg.apps.items()):
        for var, layers in sorted(readers.items()):
            if var not in app.environment:
                continue
            problem = next((p for _, t in layers if (p := value_problem(t, app.environment[var]))), None)
            if problem:
                names = [la for la, _ in layers]
                yield (f"apps.{aname}.environment.{var}: {problem}; layer {' and '.join(names)} read"
                       f"{'s' if len(names) == 1 else ''} it into {'its' if len(names) == 1 else 'their'} config "
                       f"(layers/<layer>/layer.yaml reads_environment: {var})")
