"""The cluster state: pure functions from the loaded config and the instances' facts (addresses, ids) to the view each
(instance, event) receives. Deterministic: sorted keys, members sorted by name.

Each event sees only what it needs, so a command's inputs change only when its script must run again:
- setup, shutdown: stack, own record, layer metadata (no members)
- deploy / undeploy: + the app, the databases it uses (no members: a membership change never redeploys)
- configure: + members of the layers the instance watches (`watches` in layer.yaml; `*` = all), all apps,
  the databases its layers use
- users (the users step, not an OpsWorks event): the stack, the deploy user's keys and the users of the instance's
  layers, nothing else; no other view holds a user or a key, so a change to `users` or to the stack's authorized keys
  re-runs only the users step of the instances it concerns
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from stackkit.cluster.access import deploy_keys
from stackkit.config.attributes import lookup
from stackkit.config.instance_types import architecture, vcpus
from stackkit.config.layerspec import APP_PARTS, Backends
from stackkit.config.load import Loaded, secret_fields
from stackkit.config.models import Source

MEMBER_EVENTS = ("configure",)
SIZING = ("instance_type", "vcpus", "backends", "threads")


@dataclass(frozen=True)
class InstanceFacts:
    """What only exists once the instance runs (outputs of aws.ec2.Instance / Eip)."""

    id: str
    private_ip: str
    public_ip: str | None = None
    elastic_ip: str | None = None
    availability_zone: str | None = None    # the zone's name (eu-west-1a); the config's `az` is its index
    subnet_id: str | None = None
    vpc_id: str | None = None
    private_dns: str | None = None
    public_dns: str | None = None


@dataclass(frozen=True)
class DatabaseFacts:
    endpoint: str
    port: int


def _backends_spec(loaded: Loaded, instance: str) -> Backends | None:
    """The backends declaration (layer.yaml `backends`) of the first of the instance's layers that has one."""
    return next((loaded.specs[la].backends for la in loaded.config.instances[instance].layers
                 if loaded.specs[la].backends is not None), None)


def backends(loaded: Loaded, instance: str) -> int:
    spec = _backends_spec(loaded, instance)
    if spec is None:
        return 0
    value = lookup(loaded.attrs[instance], spec.attribute)
    return min(int(vcpus(loaded.config.instances[instance].type) or 1), spec.max) if value == "auto" else int(value)


def threads(loaded: Loaded, instance: str) -> int | None:
    """Threads per backend process on `instance` (its own merged attributes: set on its layer, stack or instance)."""
    spec = _backends_spec(loaded, instance)
    return int(lookup(loaded.attrs[instance], spec.threads)) if spec is not None and spec.threads is not None else None


def instance_record(loaded: Loaded, name: str, facts: InstanceFacts) -> dict[str, Any]:
    cfg = loaded.config
    inst = cfg.instances[name]
    return {
        "name": name,
        "hostname": cfg.hostname(name),
        "id": facts.id,
        "private_ip": facts.private_ip,
        "public_ip": facts.public_ip,
        "elastic_ip": facts.elastic_ip,
        "az": inst.az,
        "availability_zone": facts.availability_zone,
        "subnet_id": facts.subnet_id,
        "vpc_id": facts.vpc_id,
        "private_dns": facts.private_dns,
        "public_dns": facts.public_dns or None,
        "architecture": architecture(inst.type),
        "instance_type": inst.type,
        "vcpus": vcpus(inst.type),
        "layers": list(inst.layers),
        "backends": backends(loaded, name),
        "threads": threads(loaded, name),
    }


def watched_layers(loaded: Loaded, instance: str) -> list[str]:
    """Layers whose membership this instance's configure depends on: what its layers watch (layer.yaml `watches`)."""
    cfg = loaded.config
    own = cfg.instances[instance].layers
    if any(loaded.specs[la].watches_all for la in own):
        return sorted(cfg.layers)
    return sorted({w for la in own for w in loaded.specs[la].watches if w in cfg.layers})


def watched_instances(loaded: Loaded, instance: str) -> list[str]:
    layers = set(watched_layers(loaded, instance))
    return sorted(n for n, i in loaded.config.instances.items() if layers & set(i.layers))


def _tls_here(loaded: Loaded, instance: str) -> bool:
    return any(loaded.specs[la].tls for la in loaded.config.instances[instance].layers)


def app_record(loaded: Loaded, app: str, instance: str) -> dict[str, Any]:
    a = loaded.config.apps[app]
    here = bool(set(a.layers) & set(loaded.config.instances[instance].layers))
    ssl = None
    if a.ssl is not None:
        ssl = {"certificate": a.ssl.certificate, "chain": a.ssl.chain,
               "key": a.ssl.key.get_secret_value() if _tls_here(loaded, instance) else None}
    return {
        "name": app,
        "source": source_record(a.source, here),
        "domains": list(a.domains),
        "environment": dict(sorted(a.environment.items())),
        "secret_environment": {k: v.get_secret_value() for k, v in sorted(a.secret_environment.items())} if here else {},
        "secret_environment_names": sorted(a.secret_environment),
        "ssl": ssl,
        "layers": list(a.layers),
        "data_source": a.data_source,
        "deploy_to": f"/srv/apps/{app}",
        "deployed_here": here,
        "redeploy_nonce": a.redeploy.nonce if (not a.redeploy.instances or instance in a.redeploy.instances) else 0,
    }


def source_record(source: Source, here: bool) -> dict[str, Any]:
    """An app's source as its deploy reads it: the HTTPS username of a private git repository when it has one, and
    its credentials only where the app is deployed (the deploy hands them to git in a credential file created 0600)."""
    rec = source.model_dump(exclude={"username", "password"})
    if source.username is not None:
        rec["username"] = source.username
    if here and source.username is not None and source.password is not None:
        # one line of git's credential store for the URL's scheme and host (git-credential-store(1), "STORAGE
        # FORMAT": percent-encoded user and password)
        url = urlsplit(source.url)
        rec["credentials"] = (f"{url.scheme}://{quote(source.username, safe='')}:"
                              f"{quote(source.password.get_secret_value(), safe='')}@{url.netloc}")
    return rec


def _without_revision(rec: dict[str, Any]) -> dict[str, Any]:
    """A configure view's app record: no revision (a new one re-runs no configure), no credentials (configure fetches
    no code)."""
    source = {k: v for k, v in rec["source"].items() if k != "credentials"}
    return {**rec, "source": {**source, "revision": None}, "redeploy_nonce": None}


# an unread part, as the templates see it: the same shape, a constant value
_UNREAD: dict[str, Any] = {"source": None, "domains": [], "ssl": None, "environment": {}, "secret_environment": {},
                           "secret_environment_names": [], "data_source": None}


def configure_apps(loaded: Loaded, instance: str) -> dict[str, dict[str, Any]]:
    """The apps in `instance`'s configure view: for each of its layers, the apps it reads (layer.yaml configure_reads:
    behind = deployed to the layers it watches, here = deployed to this instance, all, none) and only the parts it
    reads (environment: only the variables of its reads_environment); a layer that declares nothing reads every part
    of every app. Records keep their shape: an unread part is a constant, so changing it changes no view."""
    cfg = loaded.config
    own = cfg.instances[instance].layers
    parts: dict[str, set[str]] = {}
    env: dict[str, set[str] | None] = {}      # app -> the variables read (None: all)
    for la in own:
        spec = loaded.specs[la]
        reads = spec.configure_reads
        if reads is None:
            chosen, layer_parts = sorted(cfg.apps), set(APP_PARTS)
        elif reads.apps == "none":
            continue
        else:
            watched = set(cfg.layers) if spec.watches_all else set(spec.watches)
            chosen = [a for a, s in sorted(cfg.apps.items())
                      if reads.apps == "all" or set(s.layers) & (watched if reads.apps == "behind" else set(own))]
            layer_parts = set(reads.parts)
        for a in chosen:
            parts.setdefault(a, set()).update(layer_parts)
            if "environment" in layer_parts:
                if reads is None:
                    env[a] = None                          # every variable
                elif a not in env:
                    env[a] = set(spec.reads_environment)
                elif (known := env[a]) is not None:
                    known.update(spec.reads_environment)
    out = {}
    for a in sorted(parts):
        rec = _without_revision(app_record(loaded, a, instance))
        for part in APP_PARTS:
            if part not in parts[a]:
                rec[part] = _UNREAD[part]
                if part == "secret_environment":
                    rec["secret_environment_names"] = _UNREAD["secret_environment_names"]
        if (names := env.get(a)) is not None:
            rec["environment"] = {k: v for k, v in rec["environment"].items() if k in names}
        out[a] = rec
    return out


def databases_view(loaded: Loaded, instance: str, dbs: dict[str, DatabaseFacts],
                   only: set[str] | None = None) -> dict[str, Any]:
    cfg = loaded.config
    own = set(cfg.instances[instance].layers)
    out = {}
    for name, db in sorted(cfg.resources.databases.items()):
        if only is not None and name not in only:
            continue
        facts = dbs.get(name)
        uses = bool(own & set(cfg.database_users(name)))
        out[name] = {
            "engine": db.engine,
            "endpoint": facts.endpoint if facts else None,
            "port": facts.port if facts else db.port,
            "name": db.name,
            "user": db.username,
            "password": db.password.get_secret_value() if uses else None,
        }
    return out


def stack_record(loaded: Loaded) -> dict[str, Any]:
    s = loaded.config.stack
    return {"name": s.name, "region": loaded.config.region, "os": s.os, "ssh_user": s.user}


def view(loaded: Loaded, instance: str, event: str, facts: dict[str, InstanceFacts],
         dbs: dict[str, DatabaseFacts] | None = None, app: str | None = None) -> dict[str, Any]:
    """The cluster state as `instance` sees it during `event` (and, for deploy/undeploy, for `app`).

    `facts` must hold the instance itself and, for configure, every watched instance.
    """
    cfg = loaded.config
    dbs = dbs or {}
    members = set(watched_layers(loaded, instance)) if event in MEMBER_EVENTS else set()
    layers = {}
    for la in sorted(cfg.layers):
        names = cfg.layer_instances(la) if la in members else []
        layers[la] = {"name": la, "instances": [instance_record(loaded, n, facts[n]) for n in names]}
    own = instance_record(loaded, instance, facts[instance])
    if event not in MEMBER_EVENTS:
        # sizing (type, vCPUs, processes) is configure's business: a resize must not re-run setup or deploy
        own = {k: v for k, v in own.items() if k not in SIZING}
    out: dict[str, Any] = {
        "event": event,
        "stack": stack_record(loaded),
        "instance": own,
        "layers": layers,
    }
    if event in ("deploy", "undeploy"):
        assert app is not None, "deploy and undeploy views are per app"
        rec = app_record(loaded, app, instance)
        out["app"] = rec
        out["apps"] = {app: rec}
        source = cfg.apps[app].data_source
        used = {source} if source else set()
        out["databases"] = databases_view(loaded, instance, dbs, only=used)
    elif event in MEMBER_EVENTS:
        # configure sees what its layers read of the apps (layer.yaml configure_reads), never a revision: a deploy
        # must not re-run configure across the stack, nor an app change where nothing reads it
        out["apps"] = configure_apps(loaded, instance)
        out["databases"] = databases_view(loaded, instance, dbs)
    else:
        out["apps"] = {}
        out["databases"] = {}
    return out


def instance_users(loaded: Loaded, instance: str) -> list[str]:
    """The users with access to `instance`: those without layers (every instance) or sharing one of its layers."""
    cfg = loaded.config
    own = set(cfg.instances[instance].layers)
    return sorted(u for u, s in cfg.users.items() if s.layers is None or own & set(s.layers))


def users_view(loaded: Loaded, instance: str) -> dict[str, Any]:
    """The users step's view: the deploy user's keys (stackkit.cluster.access) and the instance's users with their key
    and sudo, not their layers (a layer edit that keeps the same users on an instance changes nothing there)."""
    cfg = loaded.config
    return {
        "event": "users",
        "stack": stack_record(loaded),
        "instance": {"name": instance},
        "deploy": {"user": cfg.stack.user, "keys": deploy_keys(cfg)},
        "users": {u: {"ssh_public_key": cfg.users[u].ssh_public_key, "sudo": cfg.users[u].sudo}
                  for u in instance_users(loaded, instance)},
    }


def secret_values(loaded: Loaded) -> list[str]:
    """Every secret value of the stack (for tests and leak checks; secrecy of an input is decided by `carries_secret`)."""
    return sorted({secret.get_secret_value() for _, secret in secret_fields(loaded.config)})


# Where a view holds secret values: the only places, by construction of `app_record` and `databases_view`.
# Any new secret in a view must be added here (tests/adversarial walks every secret field of the config into views).
def _secret_slots(v: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    slots: list[tuple[dict[str, Any], str]] = []
    apps = [*v.get("apps", {}).values(), *([v["app"]] if v.get("app") else [])]
    for rec in apps:
        env = rec.get("secret_environment") or {}
        slots.extend((env, k) for k in env)
        if rec.get("ssl"):
            slots.append((rec["ssl"], "key"))
    for db in (v.get("databases") or {}).values():
        slots.append((db, "password"))
    return slots


def carries_secret(v: dict[str, Any]) -> bool:
    """Whether a view holds a secret value: decided from the data (its secret fields), never by searching text."""
    return any(holder.get(key) is not None for holder, key in _secret_slots(v))


def redacted(v: dict[str, Any]) -> dict[str, Any]:
    """A copy of a view with every secret field replaced by '[secret]' (for triggers and displays)."""
    out = json.loads(json.dumps(v))
    for holder, key in _secret_slots(out):
        if holder.get(key) is not None:
            holder[key] = "[secret]"
    return out


def fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
