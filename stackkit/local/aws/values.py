"""Plain Python values <-> the provider protocol's PropertyValues.

- Unknown values (a preview's computed inputs) become UNKNOWN.
- Secrets: the stand-in takes them as they are (Configure: accept_secrets=True), so it knows which values are secret
  from the engine's own marks, never by looking at them. A secret value becomes `Secret(value)`; `reveal` gives the
  plain values to act on (a host key to install), `from_py` marks them secret again in every output, and `redacted`
  gives what the local cloud may write down: every secret replaced by REDACTED.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi.provider.experimental.property_value import Computed, PropertyValue, PropertyValueType
from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

from stackkit.aws.replacement import UNKNOWN

REDACTED = "[secret]"


@dataclass(frozen=True)
class Secret:
    value: Any


def to_py(v: PropertyValue) -> Any:
    if v.is_secret:
        return Secret(to_py(v.with_secret(False)))
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
    if isinstance(v, Secret):
        return from_py(v.value).with_secret(True)
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


def reveal(v: Any) -> Any:
    """The value with every Secret unwrapped: what the stand-in acts on, never what it writes down."""
    if isinstance(v, Secret):
        return reveal(v.value)
    if isinstance(v, dict):
        return {k: reveal(x) for k, x in v.items()}
    if isinstance(v, list):
        return [reveal(x) for x in v]
    return v


def redacted(v: Any) -> Any:
    """The value with every Secret replaced by REDACTED: what the local cloud's records hold."""
    if isinstance(v, Secret):
        return REDACTED
    if v is UNKNOWN:
        return None
    if isinstance(v, dict):
        return {k: redacted(x) for k, x in v.items()}
    if isinstance(v, list):
        return [redacted(x) for x in v]
    return v


def has_unknown(v: Any) -> bool:
    if v is UNKNOWN:
        return True
    if isinstance(v, Secret):
        return has_unknown(v.value)
    if isinstance(v, dict):
        return any(has_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(has_unknown(x) for x in v)
    return False


def normal(v: Any) -> Any:
    """Numbers as the wire carries them (floats) compare equal to ints; None and missing are the same; a secret
    compares by its value (a value that becomes secret, or stops being one, is no change for AWS)."""
    if isinstance(v, Secret):
        return normal(v.value)
    if isinstance(v, bool) or v is None or v is UNKNOWN:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [normal(x) for x in v]
    return v
