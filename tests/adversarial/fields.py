"""Every field a stack config can set, found by walking the config models (stackkit.config.models.StackConfig) and every
layer's attribute defaults (layers/*/layer.yaml `attributes:`), so a new field is covered without anyone listing it.

A field is a path pattern: `apps.*.environment.*` (`*` = any key of a mapping), `stack.admin_cidrs[*]` (any item).
`key_of` marks the keys of a free-form mapping (`apps.*.environment.<key>`): the payload is the key itself.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from stackkit.config.load import Loaded
from stackkit.config.models import StackConfig

# the top of StackConfig: its fields and where each lives in the stack file
TOP = {"region": "aws:region", "stack": "stackkit:stack", "layers": "stackkit:layers", "instances": "stackkit:instances",
       "apps": "stackkit:apps", "resources": "stackkit:resources", "users": "stackkit:users"}


@dataclass(frozen=True)
class Field:
    path: str                 # 'apps.*.environment.*'; attributes: 'attributes:plone.clients'
    kind: str                 # 'value' | 'key' | 'attribute'

    def __str__(self) -> str:
        return self.path if self.kind != "key" else f"{self.path}.<key>"


def _unwrap(tp: Any) -> list[Any]:
    """The alternatives of a type: Optional / Union / Annotated unwrapped."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [a for arg in typing.get_args(tp) for a in _unwrap(arg) if a is not type(None)]
    return [tp]


def _walk(tp: Any, path: str) -> list[Field]:
    out: list[Field] = []
    leaf = False
    for alt in _unwrap(tp):
        origin = typing.get_origin(alt)
        if isinstance(alt, type) and issubclass(alt, BaseModel):
            for name, f in alt.model_fields.items():
                if f.exclude:
                    continue
                out += _walk(f.annotation, f"{path}.{f.alias or name}" if path else (f.alias or name))
        elif origin is dict:
            _, value = typing.get_args(alt)
            out.append(Field(path, "key"))
            if value is not Any:                             # free-form (attributes): attribute_fields() go deeper
                out += _walk(value, f"{path}.*")
        elif origin is list:
            out += _walk(typing.get_args(alt)[0], f"{path}[*]")
        else:
            leaf = True
    if leaf:
        out.append(Field(path, "value"))
    return out


def config_fields() -> list[Field]:
    return list(dict.fromkeys(_walk(StackConfig, "")))


def attribute_fields(loaded: list[Loaded]) -> list[Field]:
    """Every leaf of the attributes the instances of `loaded` stacks end up with (layer.yaml defaults merged with the
    stack, layer and instance settings): 'attributes:frontend.gzip'."""
    out: set[Field] = set()

    def leaves(value: Any, path: str) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                leaves(v, f"{path}.{k}" if path else k)
        else:
            out.add(Field(f"attributes:{path}", "attribute"))
    for one in loaded:
        for attrs in one.attrs.values():
            leaves(attrs, "")
    return sorted(out, key=str)


def all_fields(loaded: list[Loaded]) -> list[Field]:
    return config_fields() + attribute_fields(loaded)


def secret_fields() -> list[Field]:
    """The config fields typed as secrets (SecretStr): every place a secret value can be set."""
    from pydantic import SecretStr

    def walk(tp: Any, path: str) -> list[str]:
        out: list[str] = []
        for alt in _unwrap(tp):
            origin = typing.get_origin(alt)
            if alt is SecretStr:
                out.append(path)
            elif isinstance(alt, type) and issubclass(alt, BaseModel):
                for name, f in alt.model_fields.items():
                    out += walk(f.annotation, f"{path}.{f.alias or name}" if path else (f.alias or name))
            elif origin is dict:
                out += walk(typing.get_args(alt)[1], f"{path}.*")
            elif origin is list:
                out += walk(typing.get_args(alt)[0], f"{path}[*]")
        return out
    return [Field(p, "value") for p in dict.fromkeys(walk(StackConfig, ""))]
