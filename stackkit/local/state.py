"""The recorded state of a local stack: the resources as last applied (like Pulumi's state file), kept between runs so
the next `stackkit local up` computes its steps against it. Holds secret inputs: written 0600 under the state dir."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from stackkit.plan.evaluate import Plan, Resource


@dataclass
class LocalState:
    stack: str
    resources: dict[str, Resource] = field(default_factory=dict)       # urn -> as applied
    pending_deletes: list[Resource] = field(default_factory=list)      # old copies of replaced resources
    addresses: dict[str, str] = field(default_factory=dict)            # machine name -> address
    machines: dict[str, str] = field(default_factory=dict)             # instance -> its current machine
    pending_machines: dict[str, str] = field(default_factory=dict)     # instance -> machine to boot next
    retiring: dict[str, str] = field(default_factory=dict)             # instance -> old machine of a replacement

    def plan(self) -> Plan:
        return Plan(stack=self.stack, project="stackkit", resources=list(self.resources.values()))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"stack": self.stack, "resources": [r.to_record() for r in self.resources.values()],
                       "pending_deletes": [r.to_record() for r in self.pending_deletes],
                       "addresses": self.addresses, "machines": self.machines,
                       "pending_machines": self.pending_machines, "retiring": self.retiring}, fh, indent=1, sort_keys=True)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, stack: str) -> LocalState:
        if not path.exists():
            return cls(stack=stack)
        data = json.loads(path.read_text())
        resources = [Resource.from_record(d) for d in data["resources"]]
        return cls(stack=data["stack"], resources={r.urn: r for r in resources},
                   pending_deletes=[Resource.from_record(d) for d in data.get("pending_deletes", [])],
                   addresses=data.get("addresses", {}), machines=data.get("machines", {}),
                   pending_machines=data.get("pending_machines", {}), retiring=data.get("retiring", {}))
