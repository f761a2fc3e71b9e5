"""`python -m stackkit local up|down|status <stack>`: the stack on Debian 12 machines on this host (Linux, root)."""

from __future__ import annotations

import argparse
import os
from datetime import UTC
from pathlib import Path

from stackkit.errors import LocalError
from stackkit.paths import ROOT

DEFAULT_WORKDIR = Path(os.environ.get("STACKKIT_LOCAL_DIR", "/var/tmp/stackkit-local"))


def _paths(args: argparse.Namespace) -> tuple[Path, Path, str]:
    from stackkit.cli import _stack_path
    from stackkit.config.stackfile import read_stack_file

    stack_file = _stack_path(args.stack, args.config)
    stack = read_stack_file(stack_file).stack
    workdir = Path(args.workdir)
    return stack_file, workdir / "state" / f"{stack}.json", stack


def _fleet(workdir: Path):  # type: ignore[no-untyped-def]
    from stackkit.local.machines import Fleet

    return Fleet(workdir)


def use_engine(args: argparse.Namespace) -> bool:
    """The real Pulumi engine when pulumi-command's provider can be found (always with --engine pulumi); else
    stackkit's own runner of the same model (--engine model, or auto without the provider)."""
    if args.engine == "model":
        return False
    from stackkit.engine.toolchain import command_provider, engine_bin

    folder = engine_bin()
    path = os.pathsep.join(([str(folder)] if folder else []) + [os.environ.get("PATH", "")])
    found = command_provider(path)
    if found is None and args.engine == "pulumi":
        raise LocalError("--engine pulumi: pulumi-command's provider (pulumi-resource-command) is not on PATH nor "
                         "installed as a Pulumi plugin: `pulumi plugin install resource command 1.2.1` (docs/engine.md)")
    if found is None:
        print("stackkit local: pulumi-command's provider is not available here (docs/engine.md): running the "
              "lifecycle with stackkit's own runner of the engine model")
    return found is not None


def up(args: argparse.Namespace) -> int:
    from stackkit.local.runner import Runner
    from stackkit.local.ssh import run_remote

    stack_file, state_path, stack = _paths(args)
    if use_engine(args):
        from stackkit.local import engine_up
        return engine_up.up(args, stack_file, stack)
    fleet = _fleet(Path(args.workdir))
    fleet.ensure_host()
    fleet.base_tree()
    runner = Runner(stack_file, fleet, state_path, run_remote, overrides=app_overrides(args, fleet, stack_file),
                    replace=frozenset(args.replace or ()))
    report = runner.up()
    ran = report.commands()
    print(f"stackkit local: {stack} converged in {report.seconds:.0f} s; {len(ran)} lifecycle scripts ran")
    for url in urls(state_path):
        print(f"serving: {url}")
    return 0


def app_overrides(args: argparse.Namespace, fleet, stack_file: Path) -> dict:  # type: ignore[no-untyped-def]
    """--app NAME=DIR: serve DIR to the machines as a git repository and deploy it as app NAME."""
    if not getattr(args, "app", None):
        return {}
    from stackkit.config.stackfile import read_stack_file
    from stackkit.local import gitserve

    apps = dict(read_stack_file(stack_file).config.get("stackkit:apps", {}))
    gitserve.serve(fleet.workdir, fleet.gateway)
    for spec in args.app:
        name, _, folder = spec.partition("=")
        if name not in apps or not folder:
            raise LocalError(f"--app {spec}: expected NAME=DIR with NAME one of the stack's apps ({', '.join(apps)})")
        tag = gitserve.publish(name, (ROOT / folder) if not Path(folder).is_absolute() else Path(folder), fleet.workdir)
        apps[name] = {**apps[name], "source": {"type": "git", "url": f"git://{fleet.gateway}/{name}.git", "revision": tag}}
    return {"stackkit:apps": apps}


def urls(state_path: Path) -> list[str]:
    """The frontends' addresses from the recorded state: what `local up` serves."""
    from stackkit.local.state import LocalState
    from stackkit.local.web import web_layers

    state = LocalState.load(state_path, stack="")
    web = web_layers()
    out = []
    for r in state.resources.values():
        layers = set(str(r.inputs.get("tags", {}).get("stackkit:layers", "")).split(","))
        if r.type == "aws:ec2/instance:Instance" and layers & web:
            machine = state.machines.get(r.name)
            if machine and machine in state.addresses:
                out.append(f"http://{state.addresses[machine]}/")
    return sorted(out)


def down(args: argparse.Namespace) -> int:
    stack_file, state_path, stack = _paths(args)
    from stackkit.local import engine_up
    if engine_up.workdir(Path(args.workdir), stack).exists():
        engine_up.down(args, stack)
    fleet = _fleet(Path(args.workdir))
    from stackkit.local.state import LocalState

    state = LocalState.load(state_path, stack=stack)
    for machine in sorted(set(state.machines.values()) | set(state.retiring.values())):
        fleet.destroy(machine)
    state_path.unlink(missing_ok=True)
    if args.purge_volumes:
        import shutil
        for r in state.resources.values():
            if r.type == "aws:ebs/volume:Volume":
                shutil.rmtree(fleet.volume_dir(r.name), ignore_errors=True)
    from stackkit.local import gitserve
    gitserve.stop(fleet.workdir)
    fleet.teardown()
    print(f"stackkit local: {stack} is down" + ("" if args.purge_volumes else "; volumes kept (--purge-volumes removes them)"))
    return 0


def status(args: argparse.Namespace) -> int:
    stack_file, state_path, stack = _paths(args)
    from stackkit.local import engine_up
    if engine_up.workdir(Path(args.workdir), stack).exists():
        return engine_up.status(args, stack)
    from stackkit.local.state import LocalState

    state = LocalState.load(state_path, stack=stack)
    if not state.resources:
        print(f"stackkit local: {stack} is not up")
        return 0
    fleet = _fleet(Path(args.workdir))
    running = {s.name: s for s in fleet.status()}
    for inst, machine in sorted(state.machines.items()):
        s = running.get(machine)
        up_ = "running" if s is not None and s.running else "stopped"
        ssh = "ssh ok" if s is not None and getattr(s, "ssh", False) else "no ssh"
        print(f"{inst:12} {machine:14} {state.addresses.get(machine, '-'):15} {up_:8} {ssh}")
    for url in urls(state_path):
        print(f"serving: {url}")
    return 0


def schedule(args: argparse.Namespace) -> int:
    """Play EventBridge Scheduler: each time-based machine as its recorded schedules want it at --at (default now)."""
    from datetime import datetime

    from stackkit.local.automation import play_schedule
    from stackkit.local.state import LocalState

    _, state_path, stack = _paths(args)
    at = datetime.now(UTC) if args.at is None else _when(args.at)
    state = LocalState.load(state_path, stack=stack)
    changed = play_schedule(state, _fleet(Path(args.workdir)), at)
    print(f"stackkit local: schedules at {at.isoformat()}: {len(changed)} machine(s) started or stopped")
    return 0


def _when(text: str):  # type: ignore[no-untyped-def]
    from datetime import datetime
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise LocalError(f"--at {text!r}: not an ISO 8601 time; e.g. 2026-11-30T19:00+01:00") from None
    if at.tzinfo is None:
        raise LocalError(f"--at {text!r}: give its UTC offset (e.g. 2026-11-30T19:00+01:00 or ...Z)")
    return at


def scale(args: argparse.Namespace) -> int:
    """Play the scaling function: the layer's up or down alarm fires."""
    from stackkit.local.automation import play_scale
    from stackkit.local.state import LocalState

    _, state_path, stack = _paths(args)
    state = LocalState.load(state_path, stack=stack)
    decision = play_scale(state, _fleet(Path(args.workdir)), args.layer, args.direction)
    print(f"stackkit local: started {', '.join(decision.start) or 'none'}; stopped {', '.join(decision.stop) or 'none'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("local", help="bring a stack up on Debian 12 machines on this host (systemd-nspawn; root)")
    verbs = p.add_subparsers(dest="verb", required=True)
    for name, fn, help_ in (("up", up, "boot the machines and run the lifecycle as pulumi up would"),
                            ("down", down, "stop and remove the machines (volumes are kept)"),
                            ("status", status, "machines, addresses, reachability"),
                            ("schedule", schedule, "play the time-based instances' schedules: start or stop machines"),
                            ("scale", scale, "play the scaling function: a load-based layer's up or down alarm fires")):
        v = verbs.add_parser(name, help=help_)
        v.add_argument("stack", nargs="?")
        v.add_argument("--config", help="a stack file instead of Pulumi.<stack>.yaml")
        v.add_argument("--workdir", default=str(DEFAULT_WORKDIR), help="machines, volumes and state (%(default)s)")
        if name == "up":
            v.add_argument("--engine", choices=("auto", "pulumi", "model"), default="auto",
                           help="pulumi: the real engine (needs pulumi-command's provider); model: stackkit's runner; "
                                "auto (default): pulumi when its command provider is available")
            v.add_argument("--replace", action="append", metavar="INSTANCE",
                           help="replace this instance although unchanged (like pulumi up --replace)")
            v.add_argument("--app", action="append", metavar="NAME=DIR",
                           help="deploy app NAME from folder DIR, served to the machines by git (repeatable)")
        if name == "schedule":
            v.add_argument("--at", metavar="TIME", help="ISO 8601 time with its offset (default: now)")
        if name == "scale":
            v.add_argument("layer", help="a layer with load_based thresholds")
            v.add_argument("direction", choices=("up", "down"), help="which alarm fires")
        if name == "down":
            v.add_argument("--purge-volumes", action="store_true", help="also delete the volumes' data")
        v.set_defaults(fn=_guard(fn))


def _guard(fn):  # type: ignore[no-untyped-def]
    def run(args: argparse.Namespace) -> int:
        if os.name != "posix" or os.uname().sysname != "Linux":
            raise LocalError("stackkit local runs on Linux only (systemd-nspawn)")
        if os.geteuid() != 0:
            raise LocalError("stackkit local needs root (it creates a bridge and boots machines): run it with sudo")
        return int(fn(args))
    return run
