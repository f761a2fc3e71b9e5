"""What the engine did, or plans to do, read from its own event stream (pulumi.automation's EngineEvents): one Step per
resource operation, in the order the engine began them, each marked done or failed when the engine said so.

Nothing here decides what the engine would do: every op is the engine's (resourcePreEvent's metadata), every outcome
its resOutputsEvent or resOpFailedEvent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from pulumi.automation import EngineEvent

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
    _open: dict[tuple[str, str], int] = field(default_factory=dict)

    def __call__(self, event: EngineEvent) -> None:
        pre, out, failed = event.resource_pre_event, event.res_outputs_event, event.res_op_failed_event
        if pre is not None:
            md = pre.metadata
            self._open[(md.urn, str(md.op.value))] = len(self.steps)
            self.steps.append(Step(op=str(md.op.value), urn=md.urn, type=md.type, diffs=tuple(md.diffs or ())))
        for md, done in ((out.metadata, True) if out is not None else (None, False),
                         (failed.metadata, False) if failed is not None else (None, False)):
            if md is None:
                continue
            i = self._open.pop((md.urn, str(md.op.value)), None)
            if i is not None:
                self.steps[i] = replace(self.steps[i], done=done, failed=not done)
        if callable(self.then):
            self.then(event)

    def changed(self, types: Iterable[str] | None = None) -> list[Step]:
        """The steps that change something, of `types` when given, in the engine's order."""
        wanted = set(types) if types is not None else None
        return [s for s in self.steps if s.changes and (wanted is None or s.type in wanted)]
