"""Every lifecycle bundle of every instance of a loaded stack, as stackkit.components.lifecycle builds them, with fake but
deterministic facts (the addresses the plan's mocks give), in the order a first `up` then a removal would run them."""

from __future__ import annotations

from typing import Any

from stackkit.cluster.state import DatabaseFacts, InstanceFacts, view
from stackkit.components.instance import DEVICE_LETTERS
from stackkit.config.load import Loaded
from stackkit.lifecycle.bundle import stdin
from stackkit.plan.mocks import fake_ip


def facts(loaded: Loaded) -> dict[str, InstanceFacts]:
    cfg = loaded.config
    out = {}
    for name, inst in sorted(cfg.instances.items()):
        eip = fake_ip("100.64.0.0/10", "eip", f"{name}-eip") if any(cfg.layers[la].elastic_ips for la in inst.layers) else None
        out[name] = InstanceFacts(id=f"i-{name}", private_ip=fake_ip("10.0.0.0/8", "private", name),
                                  public_ip=fake_ip("100.64.0.0/10", "public", name), elastic_ip=eip)
    return out


def database_facts(loaded: Loaded) -> dict[str, DatabaseFacts]:
    return {n: DatabaseFacts(endpoint=f"{n}.c0000000000.{loaded.config.region}.rds.amazonaws.com", port=d.port)
            for n, d in sorted(loaded.config.resources.databases.items())}


def devices(loaded: Loaded, instance: str) -> list[dict[str, str]]:
    """The volumes the setup bundle mounts, in stackkit.components.stack's order: layer volumes, then registered ones."""
    cfg = loaded.config
    vols = [(v.name, v.mount_point) for la in cfg.instances[instance].layers for v in loaded.specs[la].volumes]
    vols += [(n, v.mount_point) for n, v in sorted(cfg.resources.volumes.items()) if v.instance == instance]
    return [{"device": f"/dev/xvd{DEVICE_LETTERS[i]}", "mount_point": m, "volume": n} for i, (n, m) in enumerate(vols)]


def steps(loaded: Loaded) -> dict[str, list[tuple[str, str]]]:
    """instance -> [(command stdin, event)]: setup, deploy of each app, configure, shutdown, undeploy of each app
    (stackkit.lifecycle.bundle.rendered gives the script each runs)."""
    cfg = loaded.config
    f, d = facts(loaded), database_facts(loaded)
    out: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(cfg.instances):
        apps = cfg.instance_apps(name)

        def one(event: str, app: str | None = None, name: str = name) -> dict[str, Any]:
            return view(loaded, name, event, f, d, app=app)
        deploys = {a: stdin(loaded, name, {e: one(e, a) for e in ("deploy", "undeploy")}, app=a) for a in apps}
        out[name] = [
            (stdin(loaded, name, {"setup": one("setup")}, volumes=devices(loaded, name)), "setup"),
            *[(deploys[a], "deploy") for a in apps],
            (stdin(loaded, name, {"configure": one("configure")}), "configure"),
            (stdin(loaded, name, {"shutdown": one("shutdown")}), "shutdown"),
            *[(deploys[a], "undeploy") for a in apps],
        ]
    return out
