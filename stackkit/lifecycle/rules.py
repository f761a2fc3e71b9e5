"""The rules the Pulumi engine and pulumi-command apply, modelled explicitly (mocks run none of them).

Given the recorded plan of the last run (`old`, None for a new stack) and of this one (`new`), `steps()` lists what an
`up` does, in an order the engine may use:

1. in registration order of the new program (a topological order): create, update, or replace each custom resource;
   a replacement creates the new resource first, unless deleteBeforeReplace: then its old copy (and every dependent that
   must be replaced with it) is deleted first;
2. at the end, every removed resource and every replaced resource's old copy is deleted, dependents first (reverse
   registration order of the old program); a delete is skipped when its deletedWith resource is deleted too.

Facts encoded (pulumi-command v1.2.1's provider source; checked against the real engine: docs/engine.md):
- a change of `triggers` (replaceOnChanges) replaces a command; any other input change is an update, which runs `update`
  if set, else `create`; a delete runs the *stored* `delete` with the stored stdin and connection;
- CopyToRemote (an instance's library): `triggers` replaces it too; a changed source or remote path is an update that
  uploads again; its delete does nothing on the host;
- properties that depend on a replaced resource change too (new id, new address): the dependent is replaced if such a
  property forces replacement, else updated;
- which AWS properties force replacement is pulumi-aws's rule, read from the one cited table that the local cloud's
  stand-in provider also uses (stackkit/engine/aws/schema.py): the model and the engine's provider cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stackkit.engine.aws.schema import TYPES, UNKNOWN, replaces
from stackkit.lifecycle.script import EVENT_OF
from stackkit.plan.evaluate import Plan, Resource

Op = Literal["create", "update", "replace", "delete", "same"]

COMMAND_REPLACE_ON = {"triggers"}   # pulumi-command: a change of triggers replaces (#855, #189)
COPY = "command:remote:CopyToRemote"


@dataclass(frozen=True)
class Step:
    op: Op                   # what happens to the resource
    phase: str               # "create" (new copy), "update", "delete" (old copy or removed), "same"
    urn: str
    type: str
    name: str
    instance: str | None     # the stackkit Instance component it belongs to
    runs: str | None         # for commands: the script that runs ("create", "update", "delete"), None if nothing runs
    event: str | None        # for commands: the lifecycle event that runs (setup, deploy, configure, ...)
    reason: str = ""
    blocked: bool = False        # the engine refuses this step (a protected resource): the update stops here
    with_instance: bool = False  # a command deleted with its instance (deletedWith): its delete script is skipped

    @property
    def skipped(self) -> bool:
        return self.type == "command:remote:Command" and self.phase == "delete" and self.runs is None

    @property
    def label(self) -> str:
        return f"{self.instance or '-'}: {self.event or self.name} ({self.op}{', skipped' if self.skipped else ''})"


def _instance_of(r: Resource, plan: Plan) -> str | None:
    by = plan.by_urn()
    cur = by.get(r.parent)
    while cur is not None:
        if cur.type == "stackkit:index:Instance":
            return cur.name
        cur = by.get(cur.parent)
    return None


def _changed(old: Resource, new: Resource) -> set[str]:
    keys = set(old.secret_inputs) | set(new.secret_inputs)
    ignore = set(new.options.get("ignoreChanges", []))
    return {k for k in keys if k not in ignore and old.secret_inputs.get(k) != new.secret_inputs.get(k)}


def _forces_replace(old: Resource, r: Resource, props: set[str]) -> bool:
    explicit = {p.split("[")[0] for p in r.options.get("replaceOnChanges", [])}
    if r.type in ("command:remote:Command", COPY):
        explicit |= COMMAND_REPLACE_ON
    if props & explicit:
        return True
    # a property that changes because a dependency is replaced is unknown until then
    return r.type in TYPES and any(replaces(r.type, p, old.secret_inputs.get(p),
                                            UNKNOWN if p in r.property_dependencies and old.secret_inputs.get(p)
                                            == r.secret_inputs.get(p) else r.secret_inputs.get(p))
                                   for p in props)


def _command_event(r: Resource, script: str) -> str | None:
    text = r.secret_inputs.get(script) or (r.secret_inputs.get("create") if script == "update" else None)
    if not text:
        return None
    return EVENT_OF.get(text, script)


def ordered(plan: Plan) -> list[Resource]:
    """The plan's resources in a deterministic topological order: by dependency depth, then type and name
    (resources of equal depth are independent: the engine runs them in parallel)."""
    depth: dict[str, int] = {}
    by = plan.by_urn()
    for r in plan.resources:                     # registration order is topological
        deps = [u for u in r.dependencies | ({r.parent} if r.parent in by else set()) if u in depth]
        depth[r.urn] = 1 + max((depth[u] for u in deps), default=0)
    return sorted(plan.resources, key=lambda r: (depth[r.urn], r.type, r.name))


def steps(old: Plan | None, new: Plan, replace: frozenset[str] = frozenset()) -> list[Step]:
    """`replace`: names of resources to replace although unchanged (`pulumi up --replace <urn>`)."""
    olds = old.by_urn() if old else {}
    news = new.by_urn()
    ops: dict[str, tuple[Op, str]] = {}
    news_in_order = ordered(new)
    # 1. decide each resource's operation, in dependency order so replacements propagate to dependents
    for r in news_in_order:
        if not r.custom:
            continue
        if r.urn not in olds:
            ops[r.urn] = ("create", "new")
            continue
        changed = _changed(olds[r.urn], r)
        for prop, urns in r.property_dependencies.items():
            if any(ops.get(u, ("same",))[0] in ("replace",) for u in urns):
                changed.add(prop)           # a replaced dependency gets a new id / address
        if r.name in replace and r.custom:
            ops[r.urn] = ("replace", "replace requested")
        elif not changed:
            ops[r.urn] = ("same", "")
        elif _forces_replace(olds[r.urn], r, changed):
            ops[r.urn] = ("replace", "changed " + ", ".join(sorted(changed)))
        else:
            ops[r.urn] = ("update", "changed " + ", ".join(sorted(changed)))

    # dependents replaced together with a delete-before-replace resource are deleted before it
    early: dict[str, list[str]] = {}
    for r in news_in_order:
        if ops.get(r.urn, ("same",))[0] == "replace" and r.options.get("deleteBeforeReplace"):
            deps = [d.urn for d in reversed(news_in_order) if ops.get(d.urn, ("same",))[0] == "replace"
                    and any(r.urn in u for u in d.property_dependencies.values())]
            early[r.urn] = deps

    deleted = {u for u in olds if u not in news} | {u for u, (op, _) in ops.items() if op == "replace"}
    done_early: set[str] = set()
    out: list[Step] = []

    def delete_step(urn: str, why: str) -> Step:
        r = olds[urn]
        runs: str | None = None
        event = None
        reason = why
        with_instance = False
        if r.type == "command:remote:Command":
            target = r.options.get("deletedWith")
            event = _command_event(r, "delete" if r.secret_inputs.get("delete") else "create")
            if target and target in deleted:
                with_instance = True
                reason = f"{why}; skipped: its instance is deleted too (deletedWith)"
            elif r.secret_inputs.get("delete"):
                runs = "delete"
        op: Op = "replace" if urn in news else "delete"
        blocked = bool(r.options.get("protect"))
        if blocked:
            reason = (f"{r.name} is protected (data); the engine refuses to {op} it. Revert the change, or "
                      "move the data first and unprotect it on purpose (pulumi state unprotect)")
        return Step(op, "delete", urn, r.type, r.name, _instance_of(r, old) if old else None, runs, event, reason,
                    blocked=blocked, with_instance=with_instance)

    for r in news_in_order:
        if not r.custom:
            continue
        op, why = ops[r.urn]
        for dep in early.get(r.urn, []) + ([r.urn] if r.urn in early else []):
            if dep not in done_early:
                out.append(delete_step(dep, "deleted before its replacement (deleteBeforeReplace)"))
                done_early.add(dep)
        inst = _instance_of(r, new)
        if op == "same":
            out.append(Step("same", "same", r.urn, r.type, r.name, inst, None, None))
            continue
        runs = None
        event = None
        if r.type == "command:remote:Command":
            runs = "update" if op == "update" else "create"
            event = _command_event(r, runs)
        out.append(Step(op, "update" if op == "update" else "create", r.urn, r.type, r.name, inst, runs, event, why))

    if old:
        for r in reversed(ordered(old)):
            if r.custom and r.urn in deleted and r.urn not in done_early:
                out.append(delete_step(r.urn, "replaced" if r.urn in news else "removed from the program"))
    return out


def commands(steps_: list[Step]) -> list[Step]:
    """Only the steps that run a lifecycle script."""
    return [s for s in steps_ if s.type == "command:remote:Command" and s.runs is not None]
