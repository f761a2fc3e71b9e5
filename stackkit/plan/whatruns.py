"""Which lifecycle scripts an update runs, read from the engine's own steps (a `pulumi preview`'s or an `up`'s):

    create, create-replacement   the command's create event runs (setup, deploy, configure, prepare, users)
    update                       its update runs the job again only when the job changed (its stdin):
                                 stackkit.lifecycle.host's `--if-changed`; a connection-only change runs nothing
    delete, delete-replaced      its delete event runs (undeploy, shutdown, lock_users) unless it has none, or the
                                 resource it is deleted with goes in the same update: the engine then skips the
                                 provider's Delete (pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply and
                                 isDeletedWith), as a removed instance's deploy skips its undeploy

Which events a command's create and delete run is the program's own record, the stack output `commands`
(stackkit.components.lifecycle); the resources each command is deleted with are the state's (`deletedWith`).
Nothing else is decided here: the ops and their order are the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackkit.engine.events import Step

COMMAND = "command:remote:Command"
NO_DELETE = "no delete script"
PHASE = {"create": "create", "create-replacement": "create", "update": "update", "delete": "delete",
         "delete-replaced": "delete"}


@dataclass(frozen=True)
class Script:
    order: int
    command: str              # the command resource's name
    instance: str
    event: str | None         # the event its script runs (None: nothing runs)
    phase: str                # create | update | delete
    op: str                   # the engine's op
    reason: str

    @property
    def runs(self) -> bool:
        return self.event is not None


def commands_of(deployment: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The `commands` output of a deployment (`pulumi stack export`), {} for none."""
    for r in (deployment or {}).get("resources") or []:
        if r.get("type") == "pulumi:pulumi:Stack":
            return dict((r.get("outputs") or {}).get("commands") or {})
    return {}


def deleted_with(deployment: Mapping[str, Any] | None) -> dict[str, str]:
    return {r["urn"]: r["deletedWith"] for r in (deployment or {}).get("resources") or [] if r.get("deletedWith")}


def runs(steps: list[Step], before: Mapping[str, Any] | None,
         commands: Mapping[str, Mapping[str, Any]] | None = None) -> list[Script]:
    """The lifecycle scripts of `steps`, in the engine's order, against the deployment `before` (its state)."""
    known = {**commands_of(before), **(commands or {})}
    with_ = deleted_with(before)
    gone = {s.urn for s in steps if s.op in ("delete", "delete-replaced")}
    out: list[Script] = []
    for s in steps:
        if s.type != COMMAND or s.op not in PHASE:
            continue
        entry = known.get(s.name) or {}
        instance = str(entry.get("instance") or s.name)
        phase = PHASE[s.op]
        if phase == "create":
            event, reason = entry.get("create"), "new" if s.op == "create" else f"replaced ({', '.join(s.diffs) or '-'})"
        elif phase == "update":
            changed = "stdin" in s.diffs
            event = entry.get("create") if changed else None
            reason = "its job changed" if changed else f"only {', '.join(s.diffs)} changed: its job is the one that ran"
        else:
            event, reason = entry.get("delete"), "removed" if s.op == "delete" else "replaced"
            if event is None:
                reason = NO_DELETE
            elif with_.get(s.urn) in gone:
                event, reason = None, f"skipped: deleted with {with_[s.urn].rsplit('::', 1)[-1]}, which goes too"
        out.append(Script(order=len(out) + 1, command=s.name, instance=instance, event=event, phase=phase, op=s.op,
                          reason=reason))
    return out
