"""`python -m stackkit graph <stack>`: the stack as a Mermaid flowchart — layers with their instances, apps, load
balancers, databases, and who talks to whom (from the layers' ports). Pure: a Loaded in, text out."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from stackkit.config.layerspec import FromLayers
from stackkit.config.load import Loaded, load
from stackkit.config.stackfile import read_stack_file, stack_path


def _id(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts))


def _ports(ports: list[str]) -> str:
    return ", ".join(sorted(set(ports), key=lambda p: int(p.split("-")[0]) if p.split("-")[0].isdigit() else 0))


def graph(loaded: Loaded) -> str:
    cfg = loaded.config
    out = ["flowchart LR", "  internet((internet))"]
    edges: dict[tuple[str, str], list[str]] = {}

    def edge(a: str, b: str, label: str) -> None:
        edges.setdefault((a, b), []).append(label)

    for lname in sorted(cfg.layers):
        spec = loaded.specs[lname]
        out.append(f"  subgraph {_id('layer', lname)}[\"layer {lname}\"]")
        members = cfg.layer_instances(lname)
        for iname in members:
            inst = cfg.instances[iname]
            out.append(f"    {_id(lname, iname)}[\"{iname}<br/>{inst.type}, AZ {inst.az}\"]")
        if not members:
            out.append(f"    {_id(lname, 'none')}[\"(no instances)\"]")
        out.append("  end")
        lb = cfg.layers[lname].load_balancer
        if lb is not None:
            out.append(f"  {_id('alb', lname)}{{{{\"load balancer :{lb.listener_port}\"}}}}")
            edge("internet", _id("alb", lname), f"{lb.listener_port}" + (", 443" if lb.certificate_arn else ""))
        for p in spec.ports:
            src = p.from_
            if src == "internet":
                # behind a load balancer, the layer's internet ports take only the balancer's security group
                edge(_id("alb", lname) if lb is not None else "internet", _id("layer", lname), p.label)
            elif isinstance(src, FromLayers):
                for other in src.layers:
                    if other in cfg.layers:
                        edge(_id("layer", other), _id("layer", lname), p.label)
    for dname, db in sorted(cfg.resources.databases.items()):
        out.append(f"  {_id('db', dname)}[(\"RDS {db.engine} {dname}\")]")
        for lname in cfg.database_users(dname):
            edge(_id("layer", lname), _id("db", dname), str(db.port))
    for aname, app in sorted(cfg.apps.items()):
        out.append(f"  {_id('app', aname)}>\"app {aname}<br/>{app.source.revision or app.source.type}\"]")
        for lname in app.layers:
            out.append(f"  {_id('app', aname)} -. deployed to .-> {_id('layer', lname)}")
    for (a, b), labels in sorted(edges.items()):
        out.append(f"  {a} -->|{_ports(labels)}| {b}")
    return "\n".join(out) + "\n"


def _load_file(path: Path) -> Loaded:
    sf = read_stack_file(path)
    return load(sf.config, sf.secret_keys, source=str(path), secure_paths=sf.secure_paths)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("graph", help="draw the stack as a Mermaid flowchart")
    p.add_argument("stack", nargs="?")
    p.add_argument("--config", help="a stack file instead of Pulumi.<stack>.yaml")

    def run(args: argparse.Namespace) -> int:
        print(graph(_load_file(stack_path(args.stack, args.config))), end="")
        return 0

    p.set_defaults(fn=run)
