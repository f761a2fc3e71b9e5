"""`stackkit local up`: apply a stack to Debian machines on this host the way the Pulumi engine and pulumi-command would.

The program is evaluated under the mock runtime with each EC2 instance's addresses set to its machine's; the steps come
from `stackkit.lifecycle.rules.steps(recorded state, new plan)` and run in that order:

- aws:ec2/instance:Instance  create -> boot a machine; delete -> stop and remove it (a replacement gets a new machine)
- aws:ebs/volume:Volume      create -> a directory under the fleet's volumes/ (kept when machines go away)
- aws:ec2/volumeAttachment   create -> expose the volume to the machine as its device (/etc/stackkit/local-devices/xvdX);
                             delete -> stop the machine first (stop_instance_before_detaching), then unlink
- command:remote:Command     create/update/delete -> the stored script over real SSH, with the stored stdin/connection
- command:remote:CopyToRemote create/update -> the source file to the remote path, as the connection's user (as SFTP)
- aws:cloudwatch/metricAlarm with EC2's recover action  create/update -> the machine is watched and booted again from
                             its own tree whenever it dies (stackkit.local.healer); delete -> no longer watched
- anything else              recorded only (security groups, load balancers...: nothing to do on one host)

State is saved after every step, so a failed step stops the run and the next `up` resumes from there.
"""

from __future__ import annotations

import base64
import copy
import json
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from stackkit.cluster.hostkeys import from_cloud_config, hostname_of
from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.errors import LocalError
from stackkit.lifecycle.rules import Step, steps
from stackkit.local.state import LocalState
from stackkit.plan.evaluate import Plan, Resource, evaluate

INSTANCE = "aws:ec2/instance:Instance"
VOLUME = "aws:ebs/volume:Volume"
ATTACHMENT = "aws:ec2/volumeAttachment:VolumeAttachment"
COMMAND = "command:remote:Command"
COPY = "command:remote:CopyToRemote"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
INVOCATION = "aws:lambda/invocation:Invocation"


class FleetLike(Protocol):
    """What the runner needs from stackkit.local.machines.Fleet."""

    subnet: Any
    public_key: str
    private_key: str

    def boot(self, name: str, address: str, *, hostname: str | None = None, host_key: Any = None) -> Any: ...
    def stop(self, name: str) -> None: ...
    def destroy(self, name: str) -> None: ...
    def tree(self, name: str) -> Path: ...
    def volume_dir(self, name: str) -> Path: ...
    def heal(self, name: str, on: bool) -> None: ...


RemoteRun = Callable[..., Any]


@dataclass
class Executed:
    step: Step
    seconds: float
    output_tail: str = ""


@dataclass
class UpReport:
    executed: list[Executed] = field(default_factory=list)
    seconds: float = 0.0
    urls: list[str] = field(default_factory=list)

    def commands(self) -> list[tuple[str | None, str | None, str]]:
        """(instance, event, op) of every lifecycle script that ran, in order."""
        return [(e.step.instance, e.step.event, e.step.op) for e in self.executed
                if e.step.type == COMMAND and e.step.runs is not None]


class Runner:
    def __init__(self, stack_file: Path, fleet: FleetLike, state_path: Path, run_remote: RemoteRun,
                 log: Callable[[str], None] = print, overrides: dict[str, Any] | None = None,
                 replace: frozenset[str] = frozenset()) -> None:
        self.stack_file = stack_file
        self.fleet = fleet
        self.state_path = state_path
        self.run_remote = run_remote
        self.log = log
        self.overrides = overrides or {}
        self.replace = replace              # instance names to replace (pulumi up --replace)

    # --- evaluation ----------------------------------------------------------------------------------------------
    def _config(self, sf: StackFile) -> StackFile:
        """The stack file as the local machines need it: the fleet's SSH key instead of the stack's."""
        config = copy.deepcopy(sf.config)
        config.update(copy.deepcopy(self.overrides))
        stack = dict(config["stackkit:stack"])
        stack["ssh_public_key"] = self.fleet.public_key.strip()
        stack["ssh_private_key"] = self.fleet.private_key
        stack["ssh_user"] = "admin"
        stack["os"] = "debian-12"
        config["stackkit:stack"] = stack
        return StackFile(path=sf.path, config=config, secret_keys=sf.secret_keys | {"stackkit:stack"},
                         placeholders=sf.placeholders)

    def _allocate(self, state: LocalState, instances: list[str], bump: set[str]) -> dict[str, tuple[str, str]]:
        """A machine and an address per instance; instances in `bump` (replaced) get a fresh machine and address."""
        used = set(state.addresses.values())
        hosts = [str(h) for h in self.fleet.subnet.hosts()][9:]   # .10 upwards; .1 is the bridge
        out = {}
        for inst in sorted(instances):
            machine = state.machines.get(inst)
            if machine is None or inst in bump:
                gen = int(machine.rsplit("-", 1)[1]) + 1 if machine else 1
                machine = f"{inst}-{gen}"
                state.pending_machines[inst] = machine
                if machine not in state.addresses:
                    free = next(h for h in hosts if h not in used)
                    used.add(free)
                    state.addresses[machine] = free
            out[inst] = (state.addresses[machine], state.addresses[machine])
        return out

    def plan(self, state: LocalState) -> tuple[Plan, list[Step]]:
        sf = self._config(read_stack_file(self.stack_file))
        instances = sorted(sf.config.get("stackkit:instances", {}))
        bump: set[str] = set()
        for _ in range(2):
            new = evaluate(sf, addresses=self._allocate(state, instances, bump))
            todo = steps(state.plan() if state.resources else None, new, replace=self.replace)
            replaced = {s.name for s in todo if s.type == INSTANCE and s.op == "replace" and s.phase == "create"}
            if replaced <= bump:
                break
            bump |= replaced
        return new, todo

    # --- execution -----------------------------------------------------------------------------------------------
    def up(self) -> UpReport:
        state = LocalState.load(self.state_path, stack=read_stack_file(self.stack_file).stack)
        new, todo = self.plan(state)
        blocked = [s for s in todo if s.blocked]
        if blocked:
            raise LocalError("refusing to apply:\n" + "\n".join(f"  {s.name}: {s.reason}" for s in blocked))
        report = UpReport()
        start = time.monotonic()
        news = new.by_urn()
        for step in todo:
            if step.op == "same":
                state.resources[step.urn] = news[step.urn]
                continue
            t0 = time.monotonic()
            tail = self._execute(step, state, news)
            report.executed.append(Executed(step, time.monotonic() - t0, tail))
            state.save(self.state_path)
        # the program's view replaces the recorded one: same order, new inputs
        state.resources = {r.urn: r for r in new.resources}
        state.pending_deletes = []
        state.save(self.state_path)
        report.seconds = time.monotonic() - start
        return report

    def _execute(self, step: Step, state: LocalState, news: dict[str, Resource]) -> str:
        old = state.resources.get(step.urn)
        r = news.get(step.urn) if step.phase != "delete" else old
        if r is None:
            r = next((p for p in state.pending_deletes if p.urn == step.urn), None)
        if r is None:
            raise LocalError(f"{step.name}: no recorded resource for {step.op}")
        if step.type in (INSTANCE, VOLUME, ATTACHMENT, COMMAND, COPY):
            event = f"  -> {step.event}" if step.event else ""
            why = f"  ({step.reason})" if step.reason and step.op not in ("update", "create") else ""
            self.log(f"{step.op:8} {step.type.split(':')[-1]:16} {step.name}{event}{why}")
        tail = ""
        if step.type == INSTANCE:
            tail = self._instance(step, r, state)
        elif step.type == VOLUME and step.phase == "create":
            self.fleet.volume_dir(r.name).mkdir(parents=True, exist_ok=True)
        elif step.type == ATTACHMENT:
            self._attachment(step, r, state, news)
        elif step.type == COMMAND and step.runs is not None:
            tail = self._command(step, r)
        elif step.type == COPY and step.phase != "delete":
            self._copy(step, r)
        elif step.type == ALARM:
            self._alarm(step, r, state, news)
        elif step.type == INVOCATION and step.phase == "create":
            self._invoke(step, r, state)
        # record
        if step.phase == "delete":
            if step.op == "replace":
                state.pending_deletes = [p for p in state.pending_deletes if p.urn != step.urn]
            else:
                state.resources.pop(step.urn, None)
        else:
            if step.op == "replace" and old is not None and not any(p.urn == old.urn for p in state.pending_deletes):
                state.pending_deletes.append(old)
            state.resources[step.urn] = r
        return tail

    def _instance(self, step: Step, r: Resource, state: LocalState) -> str:
        if step.phase == "create":
            machine = state.pending_machines.pop(r.name, None) or state.machines.get(r.name) or f"{r.name}-1"
            if step.op == "replace":
                state.retiring[r.name] = state.machines.get(r.name, "")
            # the host key its user data installs; a replacement gets the old copy's user data (ignore_changes: the
            # engine creates it with the old inputs of an ignored property), as its connections' pin expects
            old = state.resources.get(r.urn)
            first = old if old is not None and "userData" in r.options.get("ignoreChanges", []) else r
            user_data = first.secret_inputs.get("userData")
            # as cloud-init: the hostname and the host key of its user data
            self.fleet.boot(machine, state.addresses[machine], hostname=hostname_of(user_data),
                            host_key=from_cloud_config(user_data))
            state.machines[r.name] = machine
        elif step.phase == "delete":
            table = state.retiring if step.op == "replace" else state.machines
            machine = table.pop(r.name, "")
            if machine:
                self.fleet.destroy(machine)
                state.addresses.pop(machine, None)
        return ""

    def _attachment(self, step: Step, r: Resource, state: LocalState, news: dict[str, Resource]) -> None:
        instance = next((x for x in [*news.values(), *state.resources.values()]
                         if x.type == INSTANCE and x.id == r.secret_inputs.get("instanceId")), None)
        volume = next((x for x in [*news.values(), *state.resources.values()]
                       if x.type == VOLUME and x.id == r.secret_inputs.get("volumeId")), None)
        if instance is None or volume is None:
            raise LocalError(f"{r.name}: cannot find the instance or volume it attaches")
        device = r.secret_inputs["deviceName"].rsplit("/", 1)[-1]
        if step.phase == "delete":
            machine = state.retiring.get(instance.name) or state.machines.get(instance.name)
            if machine:
                self.fleet.stop(machine)   # stop_instance_before_detaching
                link = self.fleet.tree(machine) / "etc/stackkit/local-devices" / device
                link.unlink(missing_ok=True)
            return
        machine = state.machines[instance.name]
        devices = self.fleet.tree(machine) / "etc/stackkit/local-devices"
        devices.mkdir(parents=True, exist_ok=True)
        link = devices / device
        link.unlink(missing_ok=True)
        link.symlink_to(f"/mnt/stackkit-volumes/{volume.name}")
        self.fleet.volume_dir(volume.name).mkdir(parents=True, exist_ok=True)

    def _alarm(self, step: Step, r: Resource, state: LocalState, news: dict[str, Resource]) -> None:
        """EC2's recover action, on this host: the machine of the alarm's InstanceId is watched while the alarm is."""
        if not any(str(a).endswith(":ec2:recover") for a in r.secret_inputs.get("alarmActions") or []):
            return
        instance_id = (r.secret_inputs.get("dimensions") or {}).get("InstanceId")
        instance = next((x for x in [*news.values(), *state.resources.values()]
                         if x.type == INSTANCE and x.id == instance_id), None)
        machine = state.machines.get(instance.name) if instance is not None else None
        if machine:
            self.log(f"{'watch' if step.phase != 'delete' else 'unwatch':8} {'machine':16} {machine} "
                     f"({r.name}: EC2's recover action)")
            self.fleet.heal(machine, step.phase != "delete")

    def _invoke(self, step: Step, r: Resource, state: LocalState) -> None:
        """A Lambda invocation during up: the wake function's, on this host (stackkit.local.automation.invoke)."""
        from stackkit.local.automation import invoke
        payload = json.loads(r.secret_inputs.get("input") or "{}")
        if "wake" in payload or "settle" in payload:
            invoke(state, self.fleet, payload, log=self.log)  # type: ignore[arg-type]

    def _copy(self, step: Step, r: Resource) -> None:
        """pulumi-command's CopyToRemote of a file: written as the connection's user, relative paths from its home."""
        source = Path(r.secret_inputs["source"]["path"])
        dest = shlex.quote(r.secret_inputs["remotePath"])
        try:
            self.run_remote(r.secret_inputs["connection"], f"base64 -d > {dest}.sk-new && mv -f {dest}.sk-new {dest}",
                            base64.b64encode(source.read_bytes()).decode())
        except (LocalError, OSError) as exc:
            raise LocalError(f"{step.instance}: uploading {source.name} failed ({step.name}, {step.op}):\n{exc}\n"
                             "run `stackkit local up` again: it resumes here") from None

    def _command(self, step: Step, r: Resource) -> str:
        script = step.runs or "create"
        command = r.secret_inputs.get(script) or r.secret_inputs.get("create")
        try:
            result = self.run_remote(r.secret_inputs["connection"], command, r.secret_inputs.get("stdin"),
                                     progress=lambda line: self.log(f"{'':9}{step.instance}: {line}"))
        except LocalError as exc:
            raise LocalError(f"{step.instance}: {step.event} failed ({step.name}, {step.op}):\n{exc}\n"
                             "fix the script or the config, then run `stackkit local up` again: it resumes here") from None
        return "\n".join(str(getattr(result, "stdout", "") or "").splitlines()[-5:])
