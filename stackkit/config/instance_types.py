"""vCPU counts and CPU architecture of common EC2 instance types (used for `auto` worker counts and the AMI's architecture).

An instance type not listed here still works; only an `auto` count needs its vCPUs, and the config check says so.
"""

from __future__ import annotations

_SIZES = {"nano": 2, "micro": 2, "small": 2, "medium": 2, "large": 2, "xlarge": 4, "2xlarge": 8, "4xlarge": 16,
          "8xlarge": 32, "12xlarge": 48, "16xlarge": 64}
_FAMILIES = ("t3", "t3a", "t4g", "m5", "m6i", "m6a", "m6g", "m7i", "m7a", "m7g", "c5", "c6i", "c6a", "c6g", "c7i",
             "c7g", "r5", "r6i", "r6g", "r7i", "r7g")


def vcpus(instance_type: str) -> int | None:
    family, _, size = instance_type.partition(".")
    if family not in _FAMILIES:
        return None
    if size == "medium" and not family.startswith("t"):
        return 1  # m6g.medium, c7g.medium...: one vCPU
    return _SIZES.get(size)


def architecture(instance_type: str) -> str:
    family = instance_type.partition(".")[0]
    return "arm64" if family.endswith("g") or family.endswith("gd") or family.endswith("gn") else "x86_64"
