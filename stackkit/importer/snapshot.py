"""The one model every input becomes: an OpsWorks stack as the OpsWorks API describes it.

Each field holds the API's own records (`DescribeStacks`' `Stacks[0]`, `DescribeLayers`' `Layers`...), field names as
the API spells them, so saved `aws opsworks describe-*` output and the live API need no translation, and a
CloudFormation template is translated once (stackkit.importer.cloudformation). The mapping reads only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]


@dataclass(frozen=True)
class Secret:
    """A value the input does not show: a NoEcho parameter of a template, or a value the API returns filtered."""

    origin: str          # "parameter DbPassword", "describe-apps: filtered"

    def __str__(self) -> str:
        return f"<secret: {self.origin}>"


FILTERED = "*****FILTERED*****"     # what OpsWorks returns for a Secure environment value, a key or a password


@dataclass
class Snapshot:
    source: str                                  # the file or folder read, or "opsworks:<stack id>"
    region: str
    stack: Record
    layers: list[Record] = field(default_factory=list)
    instances: list[Record] = field(default_factory=list)
    apps: list[Record] = field(default_factory=list)
    elastic_ips: list[Record] = field(default_factory=list)
    volumes: list[Record] = field(default_factory=list)
    rds_db_instances: list[Record] = field(default_factory=list)
    time_based: list[Record] = field(default_factory=list)       # TimeBasedAutoScalingConfigurations
    load_based: list[Record] = field(default_factory=list)       # LoadBasedAutoScalingConfigurations
    user_profiles: list[Record] = field(default_factory=list)
    permissions: list[Record] = field(default_factory=list)
    elastic_load_balancers: list[Record] = field(default_factory=list)
    # EC2 addresses (`aws ec2 describe-addresses`), for the allocation ids adoption needs; optional
    addresses: list[Record] = field(default_factory=list)
    # what the input says that the API has no field for (a template's ELB listeners, a volume's size...)
    notes: list[str] = field(default_factory=list)
    adoptable: bool = True                       # ids of running resources are real (not a template's logical ids)
