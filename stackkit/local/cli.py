"""`python -m stackkit local up|down|status|schedule|scale <stack>`: the stack on Debian 12 machines on this host
(Linux, root), driven by Pulumi's real engine through its Automation API (stackkit.local.stack).

    up        `pulumi up` of the stack file on the local cloud, the engine's progress streamed; prints the URLs served
    down      `pulumi destroy --exclude-protected`: the shutdown scripts run, the machines go, the protected volumes
              and Elastic IPs stay (their data with them) for the next `up`; --purge then deletes the local stack
              with them (its state, records and volumes' data: the local cloud's whole folder for the stack)
    status    the stack's instances: machine, address, running, SSH
    schedule  what EventBridge Scheduler does: start or stop the time-based machines as their schedules want at --at
    scale     what the scaling function does when a load-based layer's up or down alarm fires
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from stackkit.config.patch import apply
from stackkit.config.stackfile import read_stack_file, stack_path
from stackkit.errors import LocalError
from stackkit.local import gitserve
from stackkit.local.aws.cloud import MACHINES, Settings
from stackkit.local.files import write_private
from stackkit.local.machines import Fleet
from stackkit.local.playback import instances, name_of, play_scale, play_schedule
from stackkit.local.stack import LocalStack, UpFailed, ssh_keypair
from stackkit.local.web import web_layers

DEFAULT_WORKDIR = Path(os.environ.get("STACKKIT_LOCAL_DIR", "/var/tmp/stackkit-local"))
# the machines' bridge and subnet (another pair for a second local cloud on the same host, as the tests do), and
# where the Debian base tree is kept (default: the workdir; a minute to build, so clouds may share one)
BRIDGE = os.environ.get("STACKKIT_LOCAL_BRIDGE", "skbr0")
SUBNET = os.environ.get("STACKKIT_LOCAL_SUBNET", "10.213.0.0/24")
BASE_DIR = os.environ.get("STACKKIT_LOCAL_BASE_DIR")
COMMAND = "command:remote:Command"


def local_stack(args: argparse.Namespace, change: dict[str, Any] | None = None) -> LocalStack:
    """The local stack of the stack file: machines on the bridge; its change (--app) kept for the next `up`."""
    base = Path(args.workdir)
    ls = LocalStack(stack_path(args.stack, args.config, verb="local up").resolve(), base,
                    settings=Settings(mode=MACHINES, bridge=BRIDGE, subnet=SUBNET, base_dir=BASE_DIR or str(base)))
    saved = ls.workdir / "change.json"
    kept = json.loads(saved.read_text()) if saved.exists() else {}
    if change:
        kept.update(change)
        write_private(saved, json.dumps(kept, indent=1, sort_keys=True))
    ls.change = kept
    ls.ssh_key = ssh_keypair(ls.workdir / "ssh" / "id_ed25519")
    return ls


def fleet_of(ls: LocalStack) -> Fleet:
    s = ls.settings
    assert s is not None
    return Fleet(ls.workdir / "cloud" / "fleet", bridge=s.bridge, subnet=s.subnet, base_dir=Path(s.base_dir or ls.base))


class Progress:
    """Prints the engine's progress as it comes: each resource operation that changes something, the lifecycle
    scripts' own lines (pulumi-command streams them as diagnostics of their resource), failures."""

    def __init__(self, out: Any = print) -> None:
        self.out = out
        self.start = time.monotonic()

    def _line(self, text: str) -> None:
        self.out(f"{time.monotonic() - self.start:6.1f}s {text}")

    def __call__(self, event: auto.EngineEvent) -> None:
        pre, diag, failed = event.resource_pre_event, event.diagnostic_event, event.res_op_failed_event
        if pre is not None and pre.metadata.op.value not in ("same", "read", "refresh"):
            md = pre.metadata
            self._line(f"{md.op.value:>18} {md.type.rsplit(':', 1)[-1]:<16} {md.urn.rsplit('::', 1)[-1]}")
        elif diag is not None and diag.urn:
            # a command's own lines come as (ephemeral) info diagnostics of its resource
            for line in diag.message.rstrip().splitlines():
                if line.strip():
                    self._line(f"{'':>18} {diag.urn.rsplit('::', 1)[-1]}: {line}")
        elif failed is not None:
            self._line(f"{'failed':>18} {failed.metadata.type.rsplit(':', 1)[-1]:<16} "
                       f"{failed.metadata.urn.rsplit('::', 1)[-1]}")


def urls(ls: LocalStack) -> list[str]:
    """The addresses `local up` serves, from the stack's outputs."""
    config = read_stack_file(ls.stack_file).config
    declared = apply(config, ls.change) if ls.change else config
    return web_urls(declared.get("stackkit:instances", {}), ls.outputs().get("instances") or {}, web_layers())


def web_urls(declared: dict[str, Any], addresses: dict[str, Any], web: set[str]) -> list[str]:
    """http://<address>/ of each instance carrying a web layer (one with port 80 open to the internet, from the layers'
    own metadata: stackkit.local.web), its address from the stack's `instances` output."""
    return [f"http://{addresses[n]['address']}/" for n, i in sorted(declared.items())
            if web & set(i.get("layers", [])) and n in addresses]


def up(args: argparse.Namespace) -> int:
    change: dict[str, Any] = {}
    probe = local_stack(args)
    fleet = fleet_of(probe)
    fleet.ensure_host()           # the bridge first: the git daemon listens on its address
    fleet.base_tree()
    if args.app:
        known = dict(read_stack_file(probe.stack_file).config.get("stackkit:apps", {}))
        gitserve.serve(probe.workdir, fleet.gateway)
        for spec in args.app:
            name, _, folder = spec.partition("=")
            if name not in known or not folder:
                raise LocalError(f"--app {spec}: expected NAME=DIR with NAME one of the stack's apps ({', '.join(known)})")
            path = Path(folder) if Path(folder).is_absolute() else Path.cwd() / folder
            tag = gitserve.publish(name, path, probe.workdir)
            change[f"apps.{name}.source"] = {"type": "git", "url": f"git://{fleet.gateway}/{name}.git", "revision": tag}
    elif (probe.workdir / "git").exists():
        gitserve.serve(probe.workdir, fleet.gateway)
    ls = local_stack(args, change)
    replace = [ls.urn("aws:ec2/instance:Instance", name, ("stackkit:index:Instance",)) for name in args.replace or []]
    started = datetime.now(UTC)
    try:
        rec = ls.up(on_event=Progress(), replace=replace)
    except UpFailed as exc:
        raise LocalError(str(exc)) from None
    seconds = (datetime.now(UTC) - started).total_seconds()
    scripts = [s for s in rec.changed([COMMAND]) if s.done]
    print(f"stackkit local: {ls.stack} converged in {seconds:.0f} s; {len(rec.changed())} resource operations, "
          f"{len(scripts)} of them lifecycle commands")
    for url in urls(ls):
        print(f"serving: {url}")
    workdir = "" if Path(args.workdir) == DEFAULT_WORKDIR else f" --workdir {args.workdir}"
    print(f"console: python -m stackkit console {ls.stack} --local{workdir} --serve 8000")
    return 0


def down(args: argparse.Namespace) -> int:
    ls = local_stack(args)
    fleet = fleet_of(ls)
    if not args.force:
        try:
            ls.destroy(on_event=Progress(), exclude_protected=True)
        except UpFailed as exc:
            raise LocalError(f"{exc}\n(`stackkit local down --force` removes the machines and the local stack "
                             "without running their shutdown scripts)") from None
    for m in fleet.status():
        fleet.destroy(m.name)
    gitserve.stop(ls.workdir)
    fleet.teardown()
    if args.purge or args.force:
        shutil.rmtree(ls.workdir, ignore_errors=True)
    kept = "" if args.purge or args.force else "; its protected volumes and Elastic IPs are kept for the next `up`"
    print(f"stackkit local: {ls.stack} is down{kept}")
    return 0


def status(args: argparse.Namespace) -> int:
    ls = local_stack(args)
    known = instances(ls.cloud)
    if not known:
        print(f"stackkit local: {ls.stack} is not up")
        return 0
    fleet = fleet_of(ls)
    machines = {m.name: m for m in fleet.status()}
    for iid, props in sorted(known.items(), key=lambda kv: name_of(kv[1])):
        m = machines.get(iid)
        state = "running" if m is not None and m.running else "stopped"
        ssh = "ssh ok" if m is not None and m.ssh else "no ssh"
        print(f"{name_of(props):12} {iid:22} {props.get('privateIp') or '-':15} {state:8} {ssh}")
    for url in urls(ls):
        print(f"serving: {url}")
    return 0


def schedule(args: argparse.Namespace) -> int:
    """Play EventBridge Scheduler: each time-based machine as its recorded schedules want it at --at (default now)."""
    ls = local_stack(args)
    at = datetime.now(UTC) if args.at is None else _when(args.at)
    changed = play_schedule(ls.cloud, at)
    print(f"stackkit local: schedules at {at.isoformat()}: {len(changed)} machine(s) started or stopped")
    return 0


def _when(text: str) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise LocalError(f"--at {text!r}: not an ISO 8601 time; e.g. 2026-11-30T19:00+01:00") from None
    if at.tzinfo is None:
        raise LocalError(f"--at {text!r}: give its UTC offset (e.g. 2026-11-30T19:00+01:00 or ...Z)")
    return at


def scale(args: argparse.Namespace) -> int:
    """Play the scaling function: the layer's up or down alarm fires."""
    ls = local_stack(args)
    decision = play_scale(ls.cloud, args.layer, args.direction)
    names = {iid: name_of(p) for iid, p in instances(ls.cloud).items()}
    print(f"stackkit local: started {', '.join(names.get(m, m) for m in decision.start) or 'none'}; "
          f"stopped {', '.join(names.get(m, m) for m in decision.stop) or 'none'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("local", help="bring a stack up on Debian 12 machines on this host (systemd-nspawn; root)")
    verbs = p.add_subparsers(dest="verb", required=True)
    for name, fn, help_ in (("up", up, "pulumi up on the local cloud: machines boot, the lifecycle runs over SSH"),
                            ("down", down, "pulumi destroy, protected volumes and Elastic IPs kept"),
                            ("status", status, "the stack's instances: machine, address, running, SSH"),
                            ("schedule", schedule, "play the time-based instances' schedules: start or stop machines"),
                            ("scale", scale, "play the scaling function: a load-based layer's up or down alarm fires")):
        v = verbs.add_parser(name, help=help_)
        v.add_argument("stack", nargs="?")
        v.add_argument("--config", help="a stack file instead of Pulumi.<stack>.yaml")
        v.add_argument("--workdir", default=str(DEFAULT_WORKDIR), help="the local cloud's folder (%(default)s)")
        if name == "up":
            v.add_argument("--replace", action="append", metavar="INSTANCE",
                           help="replace this instance although unchanged (pulumi up --replace)")
            v.add_argument("--app", action="append", metavar="NAME=DIR",
                           help="deploy app NAME from folder DIR, served to the machines by git (repeatable; kept "
                                "for later `up`s)")
        if name == "schedule":
            v.add_argument("--at", metavar="TIME", help="ISO 8601 time with its offset (default: now)")
        if name == "scale":
            v.add_argument("layer", help="a layer with load_based thresholds")
            v.add_argument("direction", choices=("up", "down"), help="which alarm fires")
        if name == "down":
            v.add_argument("--purge", action="store_true",
                           help="then delete the local stack with its protected volumes' data and Elastic IPs")
            v.add_argument("--force", action="store_true",
                           help="remove the machines and the local stack without the engine (no shutdown scripts)")
        v.set_defaults(fn=_guard(fn))


def _guard(fn):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        if os.name != "posix" or os.uname().sysname != "Linux":
            raise LocalError("stackkit local runs on Linux only (systemd-nspawn)")
        if os.geteuid() != 0:
            raise LocalError("stackkit local needs root (it creates a bridge and boots machines): run it with sudo")
        return int(fn(args))
    return run
