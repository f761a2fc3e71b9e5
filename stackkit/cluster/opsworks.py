"""The cluster state in OpsWorks' shape (node['opsworks'], node['deploy'], node['haproxy']), so recipes and templates
ported from OpsWorks (Chef 11.10, the built-in cookbooks' keys) find what they expect in /etc/stackkit/node.json.

Pure: one event's stackkit view (stackkit.cluster.state.view) and the few facts of the loaded config it needs
(`node_facts`, carried in the command's job) in, the node JSON out: `node` runs on the instance too (the library's
runtime), so it imports nothing of the config. Every value
comes from the view (the plan's outputs: ids, addresses, zones, subnets, DNS names, database endpoints) or from the
config and layer.yaml (names, domains, users, attributes); where stackkit has no such thing, the key holds OpsWorks'
own empty form (docs/porting.md lists them).

Which instances it lists is exactly what the event's view holds, by design: node.json is written from the same view
that the command's input (and so its re-run rule) is made of. configure lists the members of the layers its instance
watches (layer.yaml `watches`); every event lists the instance itself in its own layers. Listing more (every layer in
every event, as OpsWorks did) would either make each command re-run on changes it does not watch, or hand a recipe
members that go stale without any run to re-read them: a recipe that reads a layer's instances belongs in configure,
and its layer watches that layer. docs/porting.md, "What node.json holds at each event".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stackkit.config.load import Loaded

# OpsWorks' application types (the built-in app recipes and haproxy's `<type>_backends` keys); a stackkit app is
# "other" (OpsWorks' type for custom layers), and the built-in types are given as OpsWorks' empty lists
APP_TYPES = ("rails", "php", "nodejs", "static", "java", "other")
APP_TYPE = "other"
KEEP_RELEASES = 5             # OpsWorks' node[:opsworks][:deploy_keep_releases]
MEMCACHED_LAYER = "memcached"
MEMCACHED_PORT = 11211        # OpsWorks' deploy[app][:memcached][:port] without a memcached layer
NODE_DEFAULTS = {"memcached_port": MEMCACHED_PORT, "apps": {}, "custom": {}}   # node_facts' values a job leaves out
ADAPTERS = {"postgres": "postgresql", "mysql": "mysql", "mariadb": "mysql"}


def _instance(rec: dict[str, Any], region: str) -> dict[str, Any]:
    """One instance as OpsWorks listed it (node[:opsworks][:layers][l][:instances][host], node[:opsworks][:instance])."""
    return {
        "id": rec["id"],
        "aws_instance_id": rec["id"],
        "status": "online",
        "private_ip": rec["private_ip"],
        # the address to reach it by: public (Elastic IP first), the private one for an instance in a private subnet
        "ip": rec["elastic_ip"] or rec["public_ip"] or rec["private_ip"],
        "public_ip": rec["public_ip"] or None,
        "elastic_ip": rec["elastic_ip"],
        "private_dns_name": rec.get("private_dns"),
        "public_dns_name": rec.get("public_dns"),
        "availability_zone": rec.get("availability_zone"),
        "subnet_id": rec.get("subnet_id"),
        "region": region,
        "architecture": rec.get("architecture"),
        "infrastructure_class": "ec2",
        "instance_type": rec.get("instance_type"),
        "backends": rec.get("backends"),
    }


def _deploy_user(loaded: Loaded, app: dict[str, Any]) -> dict[str, Any]:
    """The account the app runs as: the first user declared by one of its layers' layer.yaml, else the stack's user."""
    users = [u for la in app["layers"] if la in loaded.specs for u in loaded.specs[la].users]
    if users:
        u = users[0]
        return {"user": u.name, "group": u.name, "home": u.home or f"/home/{u.name}", "shell": u.shell}
    user = loaded.config.stack.user
    return {"user": user, "group": user, "home": f"/home/{user}", "shell": "/bin/bash"}


def _keep_releases(loaded: Loaded, instance: str, app: dict[str, Any]) -> int:
    """`<layer>.keep_releases` of the first of the app's layers that declares one: its value on this instance, or the
    layer.yaml default where the app is not deployed (another instance's value must not enter this one's input)."""
    from stackkit.config.attributes import lookup

    for la in app["layers"]:
        if la in loaded.specs and f"{la}.keep_releases" in loaded.specs[la].types:
            value = lookup(loaded.attrs.get(instance, {}), f"{la}.keep_releases")
            if value is None:
                value = lookup(loaded.specs[la].attributes, f"{la}.keep_releases")
            if value is not None:
                return int(value)
    return KEEP_RELEASES


def node_facts(loaded: Loaded, view: dict[str, Any]) -> dict[str, Any]:
    """What `node` needs of the loaded config for this view: the memcached port, per app of the view its deploy
    user and keep_releases, and the instance's custom JSON: its attributes under namespaces that none of the stack's
    layers declares (OpsWorks merged custom JSON into the node; stackkit's own layers read theirs from `attrs`, so
    only the user's own keys are node.json's, and a change of them re-runs only what hands node.json over: every
    event of the instance). stackkit.config.attribute_types refuses the top-level keys node.json makes itself."""
    port = MEMCACHED_PORT
    if MEMCACHED_LAYER in loaded.specs and loaded.specs[MEMCACHED_LAYER].ports:
        port = loaded.specs[MEMCACHED_LAYER].ports[0].port
    instance = view["instance"]["name"]
    return {"memcached_port": port,
            "apps": {name: {**_deploy_user(loaded, app), "keep_releases": _keep_releases(loaded, instance, app)}
                     for name, app in sorted(view["apps"].items())},
            "custom": {ns: v for ns, v in sorted(loaded.attrs.get(instance, {}).items())
                       if not any(ns in spec.attributes for spec in loaded.specs.values())}}


def _database(db: dict[str, Any] | None) -> dict[str, Any]:
    if db is None:   # OpsWorks' data source "None": the keys, without values
        return {"adapter": None, "type": None, "data_source_provider": None, "host": None, "port": None,
                "database": None, "username": None, "password": None, "reconnect": True}
    adapter = ADAPTERS[db["engine"]]
    return {"adapter": adapter, "type": adapter, "data_source_provider": "rds", "host": db["endpoint"],
            "port": db["port"], "database": db["name"], "username": db["user"], "password": db["password"],
            "reconnect": True}


def _members(view: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    """The layer's instances the view lists (configure: the watched layers), plus the instance itself in its own."""
    recs = list(view["layers"].get(layer, {}).get("instances", []))
    me = view["instance"]
    if layer in me["layers"] and all(r["name"] != me["name"] for r in recs):
        recs.append(me)
    return sorted(recs, key=lambda r: r["name"])


def _memcached(view: dict[str, Any], port: int) -> dict[str, Any]:
    """OpsWorks' deploy[app][:memcached]: the first memcached instance the view lists, else host nil."""
    recs = view["layers"].get(MEMCACHED_LAYER, {}).get("instances", [])
    return {"host": recs[0]["private_ip"] if recs else None, "port": port}


def _deploy(view: dict[str, Any], facts: dict[str, Any], name: str, app: dict[str, Any]) -> dict[str, Any]:
    db = view["databases"].get(app["data_source"] or "")
    ssl = app["ssl"] or {}
    deploy_to = app["deploy_to"]
    return {
        "application": name,
        "application_type": APP_TYPE,
        "deploy_to": deploy_to,
        "current_path": f"{deploy_to}/current",
        "document_root": "",
        "absolute_document_root": f"{deploy_to}/current/",
        "mounted_at": None,
        "domains": app["domains"],
        "environment": app["environment"],
        "environment_variables": {**app["environment"], **app["secret_environment"]},
        # a configure whose layers do not read the source (layer.yaml configure_reads) sees none: scm is empty there
        "scm": {"scm_type": (app["source"] or {}).get("type"), "repository": (app["source"] or {}).get("url"),
                "revision": (app["source"] or {}).get("revision"), "ssh_key": None, "user": None, "password": None},
        "database": _database(db),
        "memcached": _memcached(view, facts.get("memcached_port", MEMCACHED_PORT)),
        **facts["apps"][name],
        "ssl_support": app["ssl"] is not None,
        "ssl_certificate": ssl.get("certificate"),
        "ssl_certificate_key": ssl.get("key"),
        "ssl_certificate_ca": ssl.get("chain"),
    }


def _haproxy(view: dict[str, Any], deploy: dict[str, Any]) -> dict[str, Any]:
    """What OpsWorks' service computed for the haproxy cookbook: per application type, the app servers (members of the
    layers the apps of that type deploy to, as the view lists them) and the apps with their domains."""
    out: dict[str, Any] = {}
    for t in APP_TYPES:
        apps = {n: d for n, d in deploy.items() if d["application_type"] == t}
        layers = sorted({la for n in apps for la in view["apps"][n]["layers"]})
        servers = {r["name"]: r for la in layers for r in view["layers"].get(la, {}).get("instances", [])}
        out[f"{t}_backends"] = [{"name": r["hostname"], "ip": r["private_ip"], "backends": r.get("backends")}
                                for _, r in sorted(servers.items())]
        out[f"{t}_applications"] = {n: {"domains": d["domains"], "mounted_at": d["mounted_at"]}
                                    for n, d in sorted(apps.items())}
    return out


def _rds(view: dict[str, Any], region: str) -> list[dict[str, Any]]:
    """OpsWorks' registered RDS instances: the databases the view holds (configure: all; deploy: the app's)."""
    return [{"name": n, "address": db["endpoint"], "port": db["port"], "engine": db["engine"], "db_name": db["name"],
             "db_user": db["user"], "db_password": db["password"], "region": region}
            for n, db in sorted(view["databases"].items())]


def node(view: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """The node JSON of `view`; `facts` is node_facts(loaded, view)."""
    region = view["stack"]["region"]
    me = view["instance"]
    deploy = {name: _deploy(view, facts, name, app) for name, app in view["apps"].items()}
    return {
        **facts.get("custom", {}),      # the custom JSON, beside OpsWorks' own keys (never one of them: refused at load)
        "opsworks": {
            "activity": view["event"],
            "stack": {"name": view["stack"]["name"], "id": view["stack"]["name"], "region": region, "vpc_id": me.get("vpc_id"),
                      "rds_instances": _rds(view, region), "elb-load-balancers": []},
            "layers": {
                name: {"id": name, "name": name,
                       "instances": {r["hostname"]: _instance(r, region) for r in _members(view, name)}}
                for name in view["layers"]
            },
            "instance": {**_instance(me, region), "hostname": me["hostname"], "layers": me["layers"]},
            "applications": [{"slug_name": n, "name": n, "application_type": APP_TYPE} for n in view["apps"]],
        },
        "deploy": deploy,
        "haproxy": _haproxy(view, deploy),
    }
