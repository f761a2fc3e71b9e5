"""The console's view model: a stack as the OpsWorks console showed it, from its Pulumi state export and outputs.

Pure: `build(deployment, outputs, since)` reads only data (the export `pulumi stack export --show-secrets` gives, or
one with ciphertext) and returns plain frozen records for the page (stackkit.console.page).

Secrets are decided from the data, never by searching text. The state marks every secret value as an object
`{SECRET_SIG: SECRET_VALUE, "plaintext" | "ciphertext": ...}`: the console shows each as `[secret]`. A command's
stdout and stderr are always such objects (stackkit.components.lifecycle marks them secret: a script could print what
it saw); they are shown only when the command's own stdin is not a secret, i.e. its job held no secret field
(stackkit.cluster.state.carries_secret decided that when the plan made it). Of a secret stdout the console reads only
the runtime's last line, `stackkit-run {...}` (stackkit.lifecycle.host), and only when every field has its type: it
is written after the script ended, from the command's name, its event and two clocks. Of a job (the stdin) it reads
only fields that are no secret (the revision of a deploy, the members a configure watches), from the views with their
secret fields replaced (stackkit.cluster.state.redacted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackkit.cluster.state import redacted
from stackkit.lifecycle.script import views as job_views

SECRET_SIG = "4dabf18193072939515e22adb298388d"      # Pulumi's marker of a secret value in a state file
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
SECRET = "[secret]"
INSTANCE = "aws:ec2/instance:Instance"
COMMAND = "command:remote:Command"
LAYER = "stackkit:index:Layer"
APP = "stackkit:index:App"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
RUN_PREFIX = "stackkit-run "
RESULTS = ("ran", "unchanged")
EVENTS = ("setup", "deploy", "undeploy", "configure", "prepare", "shutdown", "users", "lock_users")
ORDER = {e: i for i, e in enumerate(("setup", "users", "deploy", "configure", "prepare"))}


@dataclass(frozen=True)
class Run:
    """A command's last run, as the state recorded it (its stdout's last line) and when the engine last changed it."""

    command: str                 # the command resource's name: web1-setup, app1-deploy-site
    event: str                   # the event its create runs (setup, deploy, configure, prepare, users)
    app: str | None
    status: str                  # ran | unchanged (the runtime's line) | no record (no such line in the state)
    started: str | None          # when the run started, UTC
    seconds: float | None
    stdout: str                  # the output it printed, or [secret]
    stderr: str
    modified: str | None         # when the engine last created or updated the command
    in_last_update: bool         # created or updated by the stack's last update


@dataclass(frozen=True)
class Instance:
    name: str
    id: str
    state: str
    type: str
    az: str
    private_ip: str
    public_ip: str
    address: str                 # where SSH reaches it (the stack's `instances` output)
    layers: tuple[str, ...]
    runs: tuple[Run, ...]


@dataclass(frozen=True)
class Layer:
    name: str
    instances: tuple[str, ...]
    load_balancer: str | None    # its DNS name


@dataclass(frozen=True)
class Deployed:
    instance: str
    revision: str                # what the instance's deploy command last ran with, or [secret]
    when: str | None


@dataclass(frozen=True)
class App:
    name: str
    source: str                  # git URL or archive URL
    revision: str                # the configured revision
    layers: tuple[str, ...]
    domains: tuple[str, ...]
    deployed: tuple[Deployed, ...]


@dataclass(frozen=True)
class Reran:
    """An instance whose configure the last update ran again, and why (from the command's state and triggers)."""

    instance: str
    why: str
    status: str


@dataclass(frozen=True)
class Console:
    stack: str
    project: str
    written: str | None          # when the state was last written (the manifest's time)
    last_update: str | None      # when the last update started (the stack's history), None: unknown
    layers: tuple[Layer, ...]
    instances: tuple[Instance, ...]
    apps: tuple[App, ...]
    configure_reran: tuple[Reran, ...]


# --- reading values ---------------------------------------------------------------------------------------------------
def is_secret(value: Any) -> bool:
    """A secret value in a Pulumi state: an object carrying Pulumi's secret signature."""
    return isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE


def revealed(value: Any) -> Any:
    """A secret's value where the export holds its plaintext (`--show-secrets`), else None. Only for values the
    console decided to show from the data."""
    if not is_secret(value) or "plaintext" not in value:
        return None
    return json.loads(value["plaintext"])


def shown(value: Any) -> Any:
    """What the page shows of a value: [secret] for a secret, anywhere inside it."""
    if is_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v) for v in value]
    return value


def run_line(stdout: str | None) -> dict[str, Any] | None:
    """The runtime's `stackkit-run {...}` line (the last of a run's stdout), if every field has its type."""
    if not stdout:
        return None
    last = stdout.rstrip("\n").rsplit("\n", 1)[-1]
    if not last.startswith(RUN_PREFIX):
        return None
    try:
        data = json.loads(last[len(RUN_PREFIX):])
    except ValueError:
        return None
    ok = (isinstance(data, dict) and set(data) == {"command", "event", "result", "started", "seconds"}
          and data["event"] in EVENTS and data["result"] in RESULTS
          and isinstance(data["started"], int | float) and isinstance(data["seconds"], int | float)
          and isinstance(data["command"], str))
    return data if ok else None


def _time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _iso(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)    # the Automation API's history gives naive UTC


def _stamp(text: str | None) -> str | None:
    when = _iso(text)
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if when else None


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _job(res: dict[str, Any]) -> dict[str, Any] | None:
    """A command's job (its stdin) with the secret fields of its views replaced: None when it cannot be read."""
    stdin = (res.get("inputs") or {}).get("stdin")
    text = revealed(stdin) if is_secret(stdin) else stdin
    if not isinstance(text, str):
        return None
    try:
        payload = json.loads(text)
        return {e: redacted(v) for e, v in job_views(payload["job"]).items()}
    except (ValueError, KeyError, TypeError):
        return None


# --- the parts --------------------------------------------------------------------------------------------------------
def _run(res: dict[str, Any], meta: dict[str, Any], since: datetime | None) -> Run:
    name = _name(res["urn"])
    out = res.get("outputs") or {}
    secret_job = is_secret((res.get("inputs") or {}).get("stdin"))
    raw_out, raw_err = out.get("stdout"), out.get("stderr")
    text_out = revealed(raw_out) if is_secret(raw_out) else raw_out
    text_err = revealed(raw_err) if is_secret(raw_err) else raw_err
    line = run_line(text_out if isinstance(text_out, str) else None)
    stdout, stderr = _output(raw_out, text_out, secret_job), _output(raw_err, text_err, secret_job)
    modified = _iso(res.get("modified"))
    return Run(command=name, event=str(line["event"] if line else meta.get("create") or "?"), app=meta.get("app"),
               status=str(line["result"]) if line else "no record",
               started=_time(line["started"]) if line else None, seconds=float(line["seconds"]) if line else None,
               stdout=stdout, stderr=stderr, modified=_stamp(res.get("modified")),
               in_last_update=bool(since and modified and modified >= since))


def _output(raw: Any, text: Any, secret_job: bool) -> str:
    """What the page shows of a command's stdout or stderr: its text, unless its job held a secret (or the export
    holds only its ciphertext)."""
    if raw is None or text == "":
        return ""
    return text if isinstance(text, str) and not secret_job else SECRET


def _layers(resources: list[dict[str, Any]]) -> tuple[dict[str, str], dict[str, str | None]]:
    """security group id -> layer, and layer -> its load balancer's DNS name."""
    groups: dict[str, str] = {}
    balancers: dict[str, str | None] = {}
    for r in resources:
        if r.get("type") == LAYER:
            name = _name(r["urn"])
            out = r.get("outputs") or {}
            if out.get("security_group_id"):
                groups[str(out["security_group_id"])] = name
            balancers[name] = out.get("load_balancer_dns")
    for r in resources:
        parent = str(r.get("parent") or "")
        if r.get("type") == LOAD_BALANCER and f"{LAYER}::" in parent:
            balancers[_name(parent)] = balancers.get(_name(parent)) or (r.get("outputs") or {}).get("dnsName")
    return groups, balancers


def _why(res: dict[str, Any], instance_created: datetime | None, since: datetime | None,
         job: dict[str, Any] | None) -> str:
    created = _iso(res.get("created"))
    if since and instance_created and instance_created >= since:
        return "a new instance: its first configure"
    nonce = ((res.get("inputs") or {}).get("triggers") or [None, None])[1:2]
    watched = ""
    view = (job or {}).get("configure")
    if view:
        members = [f"{la['name']}: {', '.join(i['name'] for i in la['instances']) or 'none'}"
                   for la in view.get("layers", {}).values() if la and la.get("instances")]
        watched = f" (now {'; '.join(members)})" if members else ""
    if since and created and created >= since:
        why = "replaced by its trigger: the state its layers watch changed" + watched
        if nonce and nonce[0] not in (0, "0", None):
            why += f", or stack.configure_nonce (now {shown(nonce[0])})"
        return why
    return "updated: its job or the runtime changed (it runs only if its job changed)"


def build(deployment: dict[str, Any], outputs: dict[str, Any], since: str | None = None) -> Console:
    """The console of a stack from its deployment (the export's `deployment`) and its outputs (name -> value, a
    secret output as a secret object); `since`: when its last update started (ISO 8601), if known."""
    resources: list[dict[str, Any]] = list(deployment.get("resources") or [])
    start = _iso(since)
    stack_res = next((r for r in resources if r.get("type") == "pulumi:pulumi:Stack"), None)
    urn = stack_res["urn"] if stack_res else (resources[0]["urn"] if resources else "urn:pulumi:?::?::?")
    parts = urn.split("::")
    stack, project = parts[0].rsplit(":", 1)[-1], parts[1] if len(parts) > 1 else "?"
    commands: dict[str, dict[str, Any]] = shown(outputs.get("commands") or {})
    addresses: dict[str, Any] = shown(outputs.get("instances") or {})
    groups, balancers = _layers(resources)

    runs: dict[str, list[Run]] = {}
    jobs: dict[str, dict[str, Any] | None] = {}
    by_name: dict[str, dict[str, Any]] = {}
    for r in resources:
        if r.get("type") != COMMAND:
            continue
        name = _name(r["urn"])
        meta = commands.get(name) or {}
        instance = str(meta.get("instance") or name.split("-", 1)[0])
        runs.setdefault(instance, []).append(_run(r, meta, start))
        jobs[name] = _job(r)
        by_name[name] = r

    instances: list[Instance] = []
    created: dict[str, datetime | None] = {}
    for r in resources:
        if r.get("type") != INSTANCE:
            continue
        name = _name(r["urn"])
        out = shown(r.get("outputs") or {})
        created[name] = _iso(r.get("created"))
        own = tuple(sorted(groups[g] for g in out.get("vpcSecurityGroupIds") or [] if g in groups))
        mine = sorted(runs.get(name, []), key=lambda x: (ORDER.get(x.event, 9), x.command))
        instances.append(Instance(
            name=name, id=str(r.get("id") or out.get("id") or "-"), state=str(out.get("instanceState") or "-"),
            type=str(out.get("instanceType") or "-"), az=str(out.get("availabilityZone") or "-"),
            private_ip=str(out.get("privateIp") or "-"), public_ip=str(out.get("publicIp") or "-"),
            address=str((addresses.get(name) or {}).get("address") or "-"), layers=own, runs=tuple(mine)))
    instances.sort(key=lambda i: i.name)

    layers = tuple(Layer(name=la, instances=tuple(i.name for i in instances if la in i.layers),
                         load_balancer=balancers.get(la)) for la in sorted(set(groups.values()) | set(balancers)))

    apps: list[App] = []
    for r in resources:
        if r.get("type") != APP:
            continue
        name = _name(r["urn"])
        rec = shown(r.get("outputs") or {})
        src = rec.get("source") or {}
        deployed = []
        for cmd, meta in sorted(commands.items()):
            if meta.get("app") != name or meta.get("create") != "deploy" or cmd not in by_name:
                continue
            view = (jobs.get(cmd) or {}).get("deploy") or {}
            revision = ((view.get("app") or {}).get("source") or {}).get("revision")
            run = next((x for x in runs.get(str(meta["instance"]), []) if x.command == cmd), None)
            deployed.append(Deployed(instance=str(meta["instance"]), revision=str(revision) if revision else SECRET,
                                     when=run.started if run else None))
        apps.append(App(name=name, source=str(src.get("url") or "-"), revision=str(src.get("revision") or "-"),
                        layers=tuple(rec.get("layers") or ()), domains=tuple(rec.get("domains") or ()),
                        deployed=tuple(deployed)))
    apps.sort(key=lambda a: a.name)

    reran: list[Reran] = []
    for cmd, meta in sorted(commands.items()):
        if meta.get("create") != "configure" or cmd not in by_name:
            continue
        instance = str(meta["instance"])
        run = next((x for x in runs.get(instance, []) if x.command == cmd), None)
        if run is None or not run.in_last_update:
            continue
        reran.append(Reran(instance=instance, why=_why(by_name[cmd], created.get(instance), start, jobs.get(cmd)),
                           status=run.status))

    manifest = deployment.get("manifest") or {}
    return Console(stack=stack, project=project, written=_stamp(manifest.get("time")), last_update=_stamp(since),
                   layers=layers, instances=tuple(instances), apps=tuple(apps), configure_reran=tuple(reran))
