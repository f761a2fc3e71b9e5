"""The script a lifecycle command runs on its instance, from the command's job: pure data in, bash out.

Host-safe (it runs on the instance too, inside the library's runtime: standard library, jinja2, stackkit.lifecycle.render
and stackkit.cluster.opsworks only). The same function renders the script at plan time, for the plan's checks, the
golden files and the expected digest, and on the host from the job the command carries (stackkit.lifecycle.host): the
host refuses to run a script whose digest differs from the one the plan computed.

A script is run as `bash FILE <event>`; the whole body sits in functions and the last line calls them with stdin from
/dev/null. A command that carries two events (deploy|undeploy, prepare|shutdown) gets both in one script: pulumi-command
feeds the stored stdin to `delete` too, so the delete runs exactly the job stored with the last create/update.

The job (stackkit.lifecycle.bundle.job builds it): app, volumes (setup), attrs (the instance's attributes its files
read), node (stackkit.cluster.opsworks.node_facts), view (the first event's view) and events ([event, the top-level keys
where its view differs from `view`], in order). The instance, its stack and the layers that run are the view's.
"""

from __future__ import annotations

import hashlib
import json
import pkgutil
import re
import shlex
from pathlib import Path
from typing import Any

from stackkit.cluster.opsworks import node
from stackkit.lifecycle.render import render

STATE_DIR = "/etc/stackkit"
# Every script's first step (the events' and the users step's alike). 0755, not 0700: the daemons read their configs
# under it when they start, after a reboot too (zope reads /etc/stackkit/plone/zope.ini as its own user); what is
# private in it is private by its own mode (state.json, node.json 0600, staged/ 0700, app.env 0600).
MAKE_STATE_DIR = f"  install -d -m 0755 {STATE_DIR}\n"
STAGED = f"{STATE_DIR}/staged"

STORE = "/etc/stackkit/lib"            # the instance's library store (stackkit.lifecycle.boot has the same literal)
UPLOAD = ".stackkit-library.zip"       # the library upload, in the SSH user's home (stackkit.lifecycle.bundle)

# the commands' `create`/`update`/`delete` strings: constant, small. Every event runs the library's bootstrap as root
# (the upload in the SSH user's home, or the store's copy of the bootstrap once the upload is gone), the job on stdin
# (the users step's job is its users view: stackkit.lifecycle.users). An update runs the job only when it is not the
# one that last ran to its end on the instance (stackkit.lifecycle.host): a command whose inputs changed but not its
# job (its connection: a new bastion, a new key) runs nothing
RUN_JOB = 'f=$HOME/' + UPLOAD + '; [ -f "$f" ] || f=' + STORE + '/boot.zip; sudo -n python3 -I "$f" {event}'
IF_CHANGED = "--if-changed"
UPDATE_JOB = RUN_JOB + " " + IF_CHANGED
JOB_EVENTS = ("setup", "deploy", "undeploy", "configure", "prepare", "shutdown")
USERS_EVENTS = ("users", "lock_users")
# every event a command runs (a layer's five, shutdown's prepare, the users step's two): the command string of each,
# and back (the model reads which event a command runs from this table, never by parsing the command)
EVENT_OF = {RUN_JOB.format(event=e): e for e in (*JOB_EVENTS, *USERS_EVENTS)}
# sk_put DEST MODE: write stdin to DEST (created 0600 then chmod MODE, moved into place): every script defines it
SK_PUT = (
    "sk_put() {\n"
    "  local dest=$1 mode=$2\n"
    "  install -d -m 0755 \"$(dirname \"$dest\")\"\n"
    "  (umask 077 && cat > \"$dest.sk-new\")\n"
    "  chmod \"$mode\" \"$dest.sk-new\"\n"
    "  mv -f \"$dest.sk-new\" \"$dest\"\n"
    "}\n\n")


def library_text(name: str) -> str:
    """A file shipped beside this module (prelude.sh, users.sh), read the way that also works from the runtime zip."""
    data = pkgutil.get_data(__package__ or "stackkit.lifecycle", name)
    assert data is not None
    return data.decode()


def shell_library(text: str) -> str:
    """A file of bash functions (prelude.sh, users.sh) as a script includes it: without its shebang, shellcheck
    directive and `set` line (the script's head has them)."""
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith(("#!", "# shellcheck shell=", "set -euo pipefail")))


def digest(data: bytes | str) -> str:
    """The short content digest the library, the jobs and the host agree on (64 bits of SHA-256)."""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:16]


SAME_APP = "=app"     # a view's `apps` in a job when it is {job's app: the view's `app`} (a deploy view)


def compact(view: dict[str, Any], app: str | None) -> dict[str, Any]:
    """A view as a job holds it, without what it says twice: a deploy view's `apps` ({app: its `app`}: SAME_APP) and
    each layer listed without members ({"instances": [], "name": the layer}: null). `expand` is the inverse."""
    out = dict(view)
    if app and view.get("apps") == {app: view.get("app")}:
        out["apps"] = SAME_APP
    if "layers" in view:
        out["layers"] = {k: None if v == {"instances": [], "name": k} else v for k, v in view["layers"].items()}
    return out


def expand(view: dict[str, Any], app: str | None) -> dict[str, Any]:
    out = dict(view)
    if out.get("apps") == SAME_APP:
        out["apps"] = {app: out["app"]}
    if "layers" in out:
        out["layers"] = {k: {"instances": [], "name": k} if v is None else v for k, v in out["layers"].items()}
    return out


def views(job: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """event -> its view, in the job's order."""
    return {e: expand({**job["view"], **patch}, job["app"]) for e, patch in job["events"]}


def layers_of(job: dict[str, Any]) -> list[str]:
    """The layers a job runs: the instance's, in its order; for an app's deploy, those the app is deployed to."""
    view = expand(job["view"], job["app"])
    own = list(view["instance"]["layers"])
    return [la for la in own if la in view["app"]["layers"]] if job["app"] else own


def spec_name(layer: str, events: list[str]) -> str:
    """The library name of a layer's metadata as a command running `events` reads it."""
    return f"{layer}/{'+'.join(events)}.json"


def context(job: dict[str, Any], spec: dict[str, Any], view: dict[str, Any], layer: str) -> dict[str, Any]:
    """The render context of one layer's script or template (docs/design.md: render context)."""
    return {**view, "attrs": job.get("attrs", {}), "layer": spec["context"] | {"name": layer}}


def _heredoc(path: str, mode: str, content: str) -> str:
    """`sk_put PATH MODE` fed by a quoted heredoc whose marker is derived from the content itself, so no content can
    hold its own marker line (it would have to contain its own hash)."""
    tag = "SK_EOF_" + hashlib.sha256(content.encode()).hexdigest()[:24]
    if not content.endswith("\n"):
        content += "\n"
    if f"\n{tag}\n" in f"\n{content}":  # pragma: no cover - a SHA-256 fixed point
        raise ValueError(f"{path}: the content holds its own heredoc marker")
    return f"  sk_put {q(path)} {q(mode)} <<'{tag}'\n{content}{tag}\n"


def q(value: object) -> str:
    """Every value that reaches the script's own bash lines goes through here (the templates quote theirs)."""
    return shlex.quote(str(value))


def _fn(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _generic_setup(job: dict[str, Any], specs: dict[str, dict[str, Any]]) -> str:
    layers = layers_of(job)
    packages = sorted({p for la in layers for p in specs[la]["packages"]})
    users = {u["name"]: u for la in layers for u in specs[la]["users"]}
    host = q(job["view"]["instance"]["hostname"])
    out = ["  sk_log \"waiting for cloud-init\"",
           "  if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null || true; fi",
           f"  hostnamectl set-hostname {host} 2>/dev/null || hostname {host}",
           f"  sk_resolvable {host}"]
    if packages:
        out.append("  sk_packages " + " ".join(q(p) for p in packages))
    for u in users.values():
        home = u["home"] or f"/home/{u['name']}"
        flags = "--system " if u["system"] else ""
        out.append(f"  id -u {q(u['name'])} >/dev/null 2>&1 || useradd {flags}--create-home --home-dir {q(home)} "
                   f"--shell {q(u['shell'])} -- {q(u['name'])}")
    for v in job.get("volumes", []):
        out.append(f"  sk_mount {q(v['device'])} {q(v['mount_point'])} ext4")
    return "\n".join(out) + "\n"


def staged(job: dict[str, Any], specs: dict[str, dict[str, Any]], event: str, layers_dir: Path,
           ) -> list[tuple[str, str, str, str, str]]:
    """(layer, template src, destination, mode, content) of every template the event stages, in order."""
    view = views(job)[event]
    out = []
    for la in layers_of(job):
        spec = specs[la]
        ctx = context(job, spec, view, la)
        for t in spec["templates"]:
            if event in t["events"]:
                out.append((la, t["src"], t["dest"], t["mode"] or "0644", render(f"{la}/{t['src']}", ctx, layers_dir)))
    return out


def layer_scripts(job: dict[str, Any], specs: dict[str, dict[str, Any]], event: str, layers_dir: Path,
                  ) -> list[tuple[str, str, str]]:
    """(layer, script path under layers/, rendered body) of each layer's script for the event, in order."""
    view = views(job)[event]
    out = []
    for la in layers_of(job):
        script = specs[la]["scripts"].get(event)
        if script:
            body = render(script, context(job, specs[la], view, la), layers_dir)
            out.append((la, script, "\n".join(line for line in body.splitlines()
                                              if not line.startswith("# shellcheck shell="))))
    return out


def _event_body(job: dict[str, Any], specs: dict[str, dict[str, Any]], event: str, layers_dir: Path) -> str:
    view, app = views(job)[event], job["app"]
    instance = view["instance"]["name"]
    parts = [f"  sk_log {q(event)}{' ' + q(app) if app else ''} on {q(instance)}\n",
             f"  rm -rf {STAGED} && install -d -m 0700 {STAGED}\n",
             _heredoc(f"{STATE_DIR}/state.json", "0600", json.dumps(view, sort_keys=True, separators=(",", ":"))),
             # OpsWorks' node JSON, from the same view (stackkit.cluster.opsworks): for ERB templates ported as they are
             _heredoc(f"{STATE_DIR}/node.json", "0600",
                      json.dumps(node(view, job.get("node", {})), sort_keys=True, separators=(",", ":")))]
    if event == "setup":
        parts.append(_generic_setup(job, specs))
    for _, _, dest, mode, content in staged(job, specs, event, layers_dir):
        parts.append(_heredoc(f"{STAGED}{dest}", mode, content))
    for la in layers_of(job):
        if specs[la]["scripts"].get(event):
            parts.append(f"  sk_layer_{_fn(la)}_{event}\n")
    if event == "shutdown":
        parts.append("  sync\n")
    return "".join(parts)


def script(job: dict[str, Any], specs: dict[str, dict[str, Any]], layers_dir: Path) -> str:
    """The script of one command (`job`), its layers' metadata `specs` (layer -> stackkit.lifecycle.bundle.spec_data)
    and their files under `layers_dir`."""
    return "".join(script_parts(job, specs, layers_dir))


def expected(parts: tuple[str, str, str]) -> str:
    """The digest the plan and the host agree on for a script: of all of it but the shell library (the prelude, the
    users functions), which is the runtime's, as is everything in the library's runtime: a release that changes only
    the runtime changes no command (the instances' library copies update), one that changes what a script does for
    the stack changes this digest, and so the command, and `pulumi preview` shows it."""
    head, _library, body = parts
    return digest(head + body)


def script_parts(job: dict[str, Any], specs: dict[str, dict[str, Any]], layers_dir: Path) -> tuple[str, str, str]:
    """The script as (head, shell library, the job's own part)."""
    events = [e for e, _ in job["events"]]
    if "prepare" in events:
        raise ValueError("'prepare' is not a lifecycle event")
    view = job["view"]
    head = (f"#!/usr/bin/env bash\n# stackkit: {' | '.join(events)} for instance {view['instance']['name']}"
            f"{' app ' + job['app'] if job['app'] else ''} (stack {view['stack']['name']})\n"
            "# generated by stackkit/lifecycle/script.py; run as: bash FILE <event>\nset -euo pipefail\n"
            "umask 022\n\n")
    fns = ["\n".join(f"# --- layers/{path}\nsk_layer_{_fn(la)}_{e}() {{\n{body}\n}}\n"
                     for la, path, body in layer_scripts(job, specs, e, layers_dir)) for e in events]
    cases = "".join(f"  {e})\n{_event_body(job, specs, e, layers_dir)}    ;;\n" for e in events)
    main = (
        SK_PUT +
        "sk_main() {\n"
        f"{MAKE_STATE_DIR}"
        "  case \"${1:-}\" in\n"
        f"{cases}"
        "  prepare)\n"
        "    # the command's create for a delete-only event: keep a copy to run by hand, nothing else\n"
        f"    install -d -m 0700 {STATE_DIR}/events\n"
        "    ;;\n"
        f"  *) echo \"usage: bash FILE {{{'|'.join(events)}}}\" >&2; exit 2 ;;\n"
        "  esac\n"
        "}\n"
    )
    return (head, shell_library(library_text("prelude.sh")) + "\n\n",
            "\n".join(f for f in fns if f) + "\n" + main + "\nsk_main \"$@\" </dev/null\n")
