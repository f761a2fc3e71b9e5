"""Plain Python values <-> the provider protocol's PropertyValues.

- Unknown values (a preview's computed inputs) become UNKNOWN.
- Secrets: the stand-in takes them as they are (Configure: accept_secrets=True), so it knows which values are secret
  from the engine's own marks, never by looking at them. A secret value becomes `Secret(value)`; `reveal` gives the
  plain values to act on (a host key to install), `from_py` marks them secret again in every output, and `redacted`
  gives what the local cloud may write down: every secret replaced by REDACTED.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.property_value import Computed, PropertyValue, PropertyValueType
from pulumi.runtime.rpc import UNKNOWN as WIRE_UNKNOWN

from stackkit.aws.replacement import UNKNOWN

REDACTED = "[secret]"
ARCHIVE_KEY = "contentDigest"
CONTENT_KEY = "__contentDigests"


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
    """The value with every Secret replaced by REDACTED, and every asset or archive (a function's code) by its kind:
    what the local cloud's records hold."""
    if isinstance(v, Secret):
        return REDACTED
    if isinstance(v, (pulumi.Asset, pulumi.Archive)):
        return {ARCHIVE_KEY: content_digest(v)}
    if v is UNKNOWN:
        return None
    if isinstance(v, dict):
        return {k: redacted(x) for k, x in v.items()}
    if isinstance(v, list):
        return [redacted(x) for x in v]
    return v


def content_digest(v: Any) -> str:
    """sha256 of an asset's or archive's content (a function's code): what the stand-in keeps of it in its outputs,
    so that the next Diff compares content, not objects (the provider SDK cannot read back an archive the engine
    stored by its hash alone)."""
    h = hashlib.sha256()
    if isinstance(v, pulumi.AssetArchive):
        for name in sorted(v.assets):
            h.update(name.encode() + b"\0" + content_digest(v.assets[name]).encode())
    elif isinstance(v, pulumi.FileAsset | pulumi.FileArchive):
        h.update(Path(str(v.path)).read_bytes())
    elif isinstance(v, pulumi.StringAsset):
        h.update(str(v.text).encode())
    else:
        h.update(repr(v).encode())
    return h.hexdigest()


def digests_of(props: dict[str, Any]) -> dict[str, str]:
    """The content digest of each top-level asset or archive input (a function's code), kept beside the outputs under
    CONTENT_KEY: the engine stores an archive by its hash alone, so the next Diff compares these digests."""
    return {k: content_digest(v) for k, v in props.items() if isinstance(v, (pulumi.Asset, pulumi.Archive))}


def tolerate_stored_archives() -> None:
    """The provider SDK (pulumi.provider.experimental) cannot read back an archive the engine stored by its hash alone
    (PropertyValue.unmarshal asserts), and does so for every Diff and Update of a resource with one: in this process,
    such an archive reads as null, and the stand-in compares CONTENT_KEY's digests instead."""
    original = PropertyValue.unmarshal

    def unmarshal(value: Any) -> PropertyValue:
        try:
            return original(value)
        except (AssertionError, ValueError) as exc:
            if "Invalid archive encountered" not in str(exc):
                raise
            return PropertyValue.null()
    PropertyValue.unmarshal = staticmethod(unmarshal)  # type: ignore[method-assign]


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
    if isinstance(v, (pulumi.Asset, pulumi.Archive)):
        return {ARCHIVE_KEY: content_digest(v)}
    if isinstance(v, bool) or v is None or v is UNKNOWN:
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        return {k: normal(x) for k, x in v.items() if x is not None}
    if isinstance(v, list):
        return [normal(x) for x in v]
    return v
