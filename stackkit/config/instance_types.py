"""The EC2 instance types stackkit accepts, their vCPU counts and CPU architecture (for `auto` worker counts and the AMI).

The catalog lists the general purpose (t, m), compute (c) and memory (r) families of the current and previous
generations with the sizes EC2 offers in each (EC2 User Guide, "Amazon EC2 instance types", specifications per family).
A type outside it is refused at load with the closest known names; to use another family, add it here.
"""

from __future__ import annotations

import difflib
import re

_T = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")
_TO_16 = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge")
_TO_24 = (*_TO_16, "24xlarge")
_TO_32 = (*_TO_24, "32xlarge")
_TO_48 = (*_TO_32, "48xlarge")
_GRAVITON = ("medium", *_TO_16, "metal")
# c6gn has no metal size (EC2 Instance Types guide, "Compute optimized instances" specifications: c6gn.medium to
# c6gn.16xlarge), unlike c6g and c6gd
_FAMILY_SIZES: dict[str, tuple[str, ...]] = {
    "t2": _T, "t3": _T, "t3a": _T, "t4g": _T,
    "m5": (*_TO_24, "metal"), "m5a": _TO_24, "m5d": (*_TO_24, "metal"),
    "m6i": (*_TO_32, "metal"), "m6id": (*_TO_32, "metal"), "m6a": (*_TO_48, "metal"),
    "m6g": _GRAVITON, "m6gd": _GRAVITON, "m7g": _GRAVITON, "m7gd": _GRAVITON,
    "m7i": (*_TO_48, "metal-24xl", "metal-48xl"), "m7i-flex": _TO_16, "m7a": ("medium", *_TO_48, "metal-48xl"),
    "m8g": ("medium", *_TO_48, "metal-24xl", "metal-48xl"),
    "c5": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge", "metal"),
    "c5a": _TO_24, "c6i": (*_TO_32, "metal"), "c6a": (*_TO_48, "metal"), "c6g": _GRAVITON, "c6gd": _GRAVITON,
    "c6gn": _GRAVITON[:-1], "c7g": _GRAVITON, "c7gd": _GRAVITON, "c7i": (*_TO_48, "metal-24xl", "metal-48xl"),
    "c7a": ("medium", *_TO_48, "metal-48xl"), "c8g": ("medium", *_TO_48, "metal-24xl", "metal-48xl"),
    "r5": (*_TO_24, "metal"), "r5a": _TO_24, "r5d": (*_TO_24, "metal"), "r6i": (*_TO_32, "metal"),
    "r6id": (*_TO_32, "metal"), "r6a": (*_TO_48, "metal"), "r6g": _GRAVITON, "r6gd": _GRAVITON, "r7g": _GRAVITON,
    "r7gd": _GRAVITON, "r7i": (*_TO_48, "metal-24xl", "metal-48xl"), "r7a": ("medium", *_TO_48, "metal-48xl"),
    "r8g": ("medium", *_TO_48, "metal-24xl", "metal-48xl"),
}
KNOWN = frozenset(f"{family}.{size}" for family, sizes in _FAMILY_SIZES.items() for size in sizes)
_VCPUS = {"nano": 2, "micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16,
          "8xlarge": 32, "9xlarge": 36, "12xlarge": 48, "16xlarge": 64, "18xlarge": 72, "24xlarge": 96,
          "32xlarge": 128, "48xlarge": 192}


def known(instance_type: str) -> bool:
    return instance_type in KNOWN


def suggestions(instance_type: str) -> str:
    """What to write instead: the sizes of a known family, or the closest known types."""
    family, _, size = instance_type.partition(".")
    if family in _FAMILY_SIZES:
        return f"{family} comes in {', '.join(_FAMILY_SIZES[family])}"
    near = difflib.get_close_matches(instance_type, sorted(KNOWN), n=3, cutoff=0.6)
    return f"did you mean {' or '.join(near)}?" if near else "no known type is close"


def vcpus(instance_type: str) -> int | None:
    """vCPUs of a known type (None for unknown types and metal sizes, whose count differs per family)."""
    if instance_type not in KNOWN:
        return None
    family, _, size = instance_type.partition(".")
    if size == "medium" and not family.startswith("t"):
        return 1  # m6g.medium, c7g.medium...: one vCPU
    if family == "t2" and size in ("nano", "micro", "small"):
        return 1
    return _VCPUS.get(size)


def architecture(instance_type: str) -> str:
    family = instance_type.partition(".")[0]
    return "arm64" if family.endswith("g") or family.endswith("gd") or family.endswith("gn") else "x86_64"


# EC2 User Guide, "Recover your instance" (CloudWatch action based recovery): the recover action needs an instance
# with EBS volumes only; types with instance store volumes (the families with a "d": m5d, m6id, c7gd...) are not
# recovered, so they get no recover alarm (the reboot alarm still applies).
_INSTANCE_STORE = re.compile(r"^[a-z]+\d+[a-z-]*d$")


def recoverable(instance_type: str) -> bool:
    """Can a CloudWatch alarm's EC2 recover action move this type to new hardware? Not with instance store volumes."""
    return not _INSTANCE_STORE.fullmatch(instance_type.partition(".")[0])
