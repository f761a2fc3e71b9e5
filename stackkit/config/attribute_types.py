"""Typed attributes: each layer declares, in its layer.yaml `types:`, the type of every attribute it reads.

Attributes (OpsWorks' custom JSON) are set at four levels (layer defaults < stack < layer < instance). Every value set
under a layer's namespace is checked against that layer's types at load, at the path where it was set, so a value
reaches a template only if it fits what the template does with it (a number in `sleep`, a size in nginx, a path in
haproxy). A layer cannot ship an attribute without a type: `layer_type_problems` checks defaults against types both ways.

A type is a mapping: `{type: int, min: 0, max: 300}`, `{type: bool}`, `{type: choice, of: [zeo, relstorage]}` or one of
the string kinds in `KINDS`; `nullable: true` allows null, `or: [auto]` allows those literal values too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from stackkit.config.layerspec import LayerSpec
from stackkit.config.models import StackConfig

# string kinds: (pattern, what a valid value looks like, maximum length)
KINDS: dict[str, tuple[str, str, int]] = {
    "size": (r"^[0-9]+[kKmMgG]?$", "a size such as 64m, 512k or 1g (nginx/varnish units)", 20),
    "zconfig_size": (r"^[0-9]+(KB|MB|GB)?$", "a size such as 128MB or 1GB (ZConfig byte-size)", 20),
    "urlpath": (r"^/[A-Za-z0-9._~/?&=+,:@!*-]*$",
                "a URL path starting with / (letters, digits and ._~/?&=+,:@!*- only)", 1024),
    "relpath": (r"^(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._-][A-Za-z0-9._/-]*$",
                "a relative file path inside the app's repository (no .., no leading /)", 255),
    "version": (r"^[0-9]+(\.[0-9]+)*((a|b|rc|\.post|\.dev)[0-9]+)?$", "a release version such as 6.2 or 6.0.0", 40),
    "calendar": (r"^[A-Za-z0-9*:,./~ -]+$", "a systemd OnCalendar expression such as '*-*-* 02:30:00'", 100),
    "s3_bucket": (r"^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                  "an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens; S3 bucket naming rules)", 63),
    # a Zope object id, as the frontend rewrites URLs to /<id>/ (nginx): OFS's id rules, at most 64 characters
    "zope_id": (r"^[A-Za-z0-9-][A-Za-z0-9._-]*$",
                "a Zope object id (letters, digits, '.', '_', '-', not starting with '.' or '_')", 64),
    # free text that templates only ever pass to bash as one quoted word (never into a daemon's config)
    "command": (r"^[^\x00-\x08\x0b-\x1f\x7f]*$", "a shell command (one line, no control characters)", 4096),
}
TYPES = {"int", "bool", "choice", *KINDS}


def type_problem(t: dict[str, Any]) -> str | None:
    """Whether a declared type is itself valid (layer.yaml is code, but its mistakes are still said clearly)."""
    kind = t.get("type")
    if kind not in TYPES:
        return f"unknown type {kind!r} (known: {', '.join(sorted(TYPES))})"
    if kind == "choice" and not t.get("of"):
        return "a choice needs `of: [...]`"
    unknown = set(t) - {"type", "min", "max", "of", "nullable", "or"}
    if unknown:
        return f"unknown type keys {sorted(unknown)}"
    return None


def value_problem(t: dict[str, Any], value: Any) -> str | None:
    """None if `value` fits the type `t`, else what is wrong and what would fit."""
    if value is None:
        return None if t.get("nullable") else "must be set (null is not allowed here)"
    if value in t.get("or", []) and not isinstance(value, bool):
        return None
    also = "".join(f" or {v!r}" for v in t.get("or", []))
    kind = t["type"]
    if kind == "bool":
        return None if isinstance(value, bool) else f"{value!r} must be true or false"
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{value!r} must be a whole number{also} (no quotes)"
        lo, hi = t.get("min"), t.get("max")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{value} is out of range: {lo if lo is not None else '…'} to {hi if hi is not None else '…'}{also}"
        return None
    if kind == "choice":
        return None if value in t["of"] else f"{value!r} must be one of {', '.join(map(str, t['of']))}"
    pattern, looks, longest = KINDS[kind]
    if not isinstance(value, str):
        return f"{value!r} must be {looks}{also}"
    if len(value) > longest:
        return f"is {len(value)} characters long; at most {longest}"
    if not re.match(pattern, value):
        return f"{value[:80]!r} is not {looks}{also}"
    return None


def attribute_leaves(data: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            yield from attribute_leaves(value, dotted + ".")
        else:
            yield dotted, value


def layer_type_problems(spec: LayerSpec, where: str) -> list[str]:
    """A layer's own defaults against its types: every default has a type, every type a default, each default fits."""
    problems = []
    defaults = dict(attribute_leaves(spec.attributes))
    for name, t in sorted(spec.types.items()):
        problem = type_problem(t)
        if problem:
            problems.append(f"{where}: types.{name}: {problem}")
        elif name not in defaults:
            problems.append(f"{where}: types.{name}: no such attribute under attributes:; add its default")
        else:
            bad = value_problem(t, defaults[name])
            if bad:
                problems.append(f"{where}: attributes.{name}: the default {bad}")
    for name, t in sorted(spec.reads_environment.items()):
        problem = type_problem(t)
        if problem:
            problems.append(f"{where}: reads_environment.{name}: {problem}")
    if spec.backends is not None:
        t = spec.types.get(spec.backends.attribute, {})
        if t.get("max") != spec.backends.max:
            problems.append(f"{where}: types.{spec.backends.attribute}: its max ({t.get('max')}) must be backends.max "
                            f"({spec.backends.max}), the most processes an instance runs")
    for name in sorted(set(defaults) - set(spec.types)):
        problems.append(f"{where}: attributes.{name}: has no type; declare it under types: (e.g. {name}: {{type: int}})")
    return problems


def attribute_types(cfg: StackConfig, specs: dict[str, LayerSpec]) -> Iterator[str]:
    """Every attribute value set in the stack file, checked against the type of the layer that owns its namespace."""
    owners: dict[str, LayerSpec] = {ns: layer for layer in specs.values() for ns in layer.attributes}
    sources = [("stack.attributes", cfg.stack.attributes),
               *((f"layers.{n}.attributes", la.attributes) for n, la in sorted(cfg.layers.items())),
               *((f"instances.{n}.attributes", i.attributes) for n, i in sorted(cfg.instances.items()))]
    for where, attrs in sources:
        for namespace, values in sorted(attrs.items()):
            spec = owners.get(namespace)
            if spec is None:
                continue  # custom JSON of the user's own: no stackkit template reads it
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
