"""`stackkit local up|down|status` on the real Pulumi engine: a thin wrapper over `pulumi up` on the local stack
(stackkit.engine.localstack), with the stand-in aws provider booting Debian machines and pulumi-command running the
lifecycle over SSH. Used whenever pulumi-command's provider is available (docs/engine.md says where it comes from).
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from stackkit.engine.localstack import LocalStack, ssh_keypair
from stackkit.errors import LocalError
from stackkit.local import gitserve
from stackkit.local.machines import Fleet

BRIDGE, SUBNET = "skbr0", "10.213.0.0/24"


def workdir(base: Path, stack: str) -> Path:
    return base / "engine" / stack


def fleet_of(base: Path, stack: str) -> Fleet:
    return Fleet(workdir(base, stack) / "cloud" / "fleet", bridge=BRIDGE, subnet=SUBNET, base_dir=base)


def local_stack(stack_file: Path, base: Path, stack: str, apps: list[str] | None) -> tuple[LocalStack, Fleet]:
    from stackkit.config.stackfile import read_stack_file

    wd = workdir(base, stack)
    fleet = fleet_of(base, stack)
    change: dict[str, Any] = {}
    if apps:
        known = dict(read_stack_file(stack_file).config.get("stackkit:apps", {}))
        gitserve.serve(wd, fleet.gateway)
        for spec in apps:
            name, _, folder = spec.partition("=")
            if name not in known or not folder:
                raise LocalError(f"--app {spec}: expected NAME=DIR with NAME one of the stack's apps ({', '.join(known)})")
            path = Path(folder) if Path(folder).is_absolute() else Path.cwd() / folder
            tag = gitserve.publish(name, path, wd)
            change[f"apps.{name}.source"] = {"type": "git", "url": f"git://{fleet.gateway}/{name}.git", "revision": tag}
    machines = {"bridge": BRIDGE, "subnet": SUBNET, "base_dir": str(base)}
    return LocalStack(stack_file, wd, machines=machines, change=change, ssh_key=ssh_keypair(wd / "id_ed25519")), fleet


def up(args: argparse.Namespace, stack_file: Path, stack: str) -> int:
    base = Path(args.workdir)
    fleet = fleet_of(base, stack)
    fleet.ensure_host()       # the bridge first: the git daemon listens on its address
    fleet.base_tree()
    ls, _ = local_stack(stack_file, base, stack, args.app)
    engine = ls.prepare()
    replace = [f"--replace=urn:pulumi:{stack}::stackkit::stackkit:index:Stack$stackkit:index:Instance"
               f"$aws:ec2/instance:Instance::{name}" for name in args.replace or []]
    out = ls.run(engine, "up", "--yes", "--skip-preview", *replace, check=False)
    print(out.stdout[-6000:])
    if out.returncode != 0:
        raise LocalError(f"pulumi up failed ({out.returncode}): {out.stderr.strip()[-1500:]}\n"
                         "fix the script or the config, then run `stackkit local up` again: it resumes")
    for url in urls(ls, engine, stack_file):
        print(f"serving: {url}")
    return 0


def urls(ls: LocalStack, engine: Any, stack_file: Path) -> list[str]:
    """The frontends' addresses, from the stack's outputs."""
    from stackkit.config.stackfile import read_stack_file
    from stackkit.local.web import web_layers

    web = web_layers()
    instances = read_stack_file(stack_file).config.get("stackkit:instances", {})
    out = ls.run(engine, "stack", "output", "instances", "--json", check=False)
    addresses = json.loads(out.stdout or "{}") if out.returncode == 0 else {}
    return [f"http://{addresses[n]['address']}/" for n, i in sorted(instances.items())
            if web & set(i.get("layers", [])) and n in addresses]


def down(args: argparse.Namespace, stack: str) -> int:
    base = Path(args.workdir)
    wd = workdir(base, stack)
    fleet = fleet_of(base, stack)
    for m in fleet.status():
        fleet.destroy(m.name)
    gitserve.stop(wd)
    fleet.teardown()
    volumes = wd / "cloud" / "fleet" / "volumes"
    keep = None
    if volumes.exists() and not args.purge_volumes:
        keep = base / "engine" / f"{stack}-volumes"
        shutil.rmtree(keep, ignore_errors=True)
        shutil.move(str(volumes), keep)
    shutil.rmtree(wd, ignore_errors=True)
    print(f"stackkit local: {stack} is down (machines, bridge and the local stack's state removed)"
          + (f"; the volumes' data is kept in {keep}" if keep else ""))
    return 0


def status(args: argparse.Namespace, stack: str) -> int:
    fleet = fleet_of(Path(args.workdir), stack)
    machines = fleet.status()
    if not machines:
        print(f"stackkit local: {stack} is not up")
    for m in machines:
        print(f"{m.name:22} {m.address:15} {'running' if m.running else 'stopped':8} {'ssh ok' if m.ssh else 'no ssh'}")
    return 0
