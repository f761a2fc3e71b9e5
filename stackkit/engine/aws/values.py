"""Plain Python values <-> the provider protocol's PropertyValues. Unknown values (a preview's computed inputs)
become UNKNOWN; the stand-in asks the engine not to send secrets (Configure: accept_secrets=False), so the engine
strips them on the way in and marks the matching outputs secret again on the way out."""

from __future__ import annotations

from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue, PropertyValueType
from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

from stackkit.engine.aws.schema import UNKNOWN  # noqa: F401 (re-exported)


def to_py(v: PropertyValue) -> Any:
    t = v.type
    if t == PropertyValueType.COMPUTED or isinstance(v.value, Computed) or v.value == WIRE_UNKNOWN:
        return UNKNOWN
    value: Any = v.value
    if t == PropertyValueType.MAP:
        return {k: to_py(x) for k, x in value.items()}
    if t == PropertyValueType.ARRAY:
        return [to_py(x) for x in value]
    return value


def from_py(v: Any) -> PropertyValue:
    if v is UNKNOWN:
        # the wire's unknown sentinel: this SDK version's PropertyValue cannot marshal Computed itself
        return PropertyValue(WIRE_UNKNOWN)
    if v is None:
        return PropertyValue.null()
    if isinstance(v, dict):
        return PropertyValue({k: from_py(x) for k, x in v.items()})
    if isinstance(v, (list, tuple)):
        return PropertyValue([from_py(x) for x in v])
    if isinstance(v, int) and not isinstance(v, bool):
        return PropertyValue(float(v))
    return PropertyValue(v)


def map_to_py(m: dict[str, PropertyValue]) -> dict[str, Any]:
    return {k: to_py(v) for k, v in m.items()}


def map_from_py(m: dict[str, Any]) -> dict[str, PropertyValue]:
    return {k: from_py(v) for k, v in m.items()}


def has_unknown(v: Any) -> bool:
    if v is UNKNOWN:
        return True
    if isinstance(v, dict):
        return any(has_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(has_unknown(x) for x in v)
    return False


def normal(v: Any) -> Any:
    """Numbers as the wire carries them (floats) compare equal to ints; None and missing are the same."""
    if isinstance(v, bool) or v is None or v is UNKNOWN:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [normal(x) for x in v]
    return v
