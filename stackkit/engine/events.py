"""What the engine did, or plans to do, read from its own event stream (pulumi.automation's EngineEvents): one Step per
resource operation, in the order the engine began them, each marked done or failed when the engine said so.

Nothing here decides what the engine would do: every op is the engine's (resourcePreEvent's metadata), every outcome
its resOutputsEvent or resOpFailedEvent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from pulumi.automation import EngineEvent

STACK = "pulumi:pulumi:Stack"
# ops that change nothing (the engine still reports them)
UNCHANGED = frozenset({"same", "read", "refresh", "discard", "discard-replaced", "remove-pending-replace"})


@dataclass(frozen=True)
class Step:
    op: str                           # the engine's op: create, update, delete, replace, create-replacement, ...
    urn: str
    type: str
    diffs: tuple[str, ...] = ()       # the top-level properties whose change caused it (update, replace)
    done: bool = False                # the engine reported its outputs (a preview's planned steps are "done" too)
    failed: bool = False

    @property
    def name(self) -> str:
        """The resource's name (the URN's last part)."""
        return self.urn.rsplit("::", 1)[-1]

    @property
    def changes(self) -> bool:
        return self.op not in UNCHANGED


@dataclass
class Recorder:
    """An `on_event` callback for Stack.up/preview/destroy that keeps every step, and hands each event on."""

    then: object = None                       # another on_event callback, called after recording
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)    # the stack's outputs, as the engine last reported them
    errors: list[tuple[str, str]] = field(default_factory=list)   # (resource name or "", message) of each error
    warnings: list[tuple[str, str]] = field(default_factory=list)  # the same, of each warning
    _open: dict[tuple[str, str], int] = field(default_factory=dict)

    def __call__(self, event: EngineEvent) -> None:
        pre, out, failed = event.resource_pre_event, event.res_outputs_event, event.res_op_failed_event
        diag = event.diagnostic_event
        if diag is not None and diag.severity in ("error", "warning"):
            kept = self.errors if diag.severity == "error" else self.warnings
            kept.append(((diag.urn or "").rsplit("::", 1)[-1], diag.message.strip()))
        if pre is not None:
            md = pre.metadata
            self._open[(md.urn, str(md.op.value))] = len(self.steps)
            self.steps.append(Step(op=str(md.op.value), urn=md.urn, type=md.type, diffs=tuple(md.diffs or ())))
        ended = [(e.metadata, e is out) for e in (out, failed) if e is not None]
        for md, done in ended:
            i = self._open.pop((md.urn, str(md.op.value)), None)
            if i is not None:
                self.steps[i] = replace(self.steps[i], done=done, failed=not done)
            if done and md.type == STACK and md.new is not None and md.new.outputs:
                self.outputs = dict(md.new.outputs)
        if callable(self.then):
            self.then(event)

    def changed(self, types: Iterable[str] | None = None) -> list[Step]:
        """The steps that change something, of `types` when given, in the engine's order."""
        wanted = set(types) if types is not None else None
        return [s for s in self.steps if s.changes and (wanted is None or s.type in wanted)]
