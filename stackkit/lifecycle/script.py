"""One bash script per lifecycle command: everything an instance needs for an event, delivered on stdin.

A bundle is run as `sudo bash -s <event>`; the whole body sits in functions and the last line calls them with stdin
from /dev/null, so bash has parsed the entire script before any command could read stdin. A command that carries two
events (deploy|undeploy, prepare|shutdown) gets both in one bundle: pulumi-command feeds the stored stdin to `delete`
too, so the delete runs exactly the script stored with the last create/update.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from pathlib import Path
from typing import Any

from stackkit.cluster.opsworks import node
from stackkit.config.load import Loaded
from stackkit.lifecycle.render import render

PRELUDE = Path(__file__).with_name("prelude.sh")
STATE_DIR = "/etc/stackkit"
STAGED = f"{STATE_DIR}/staged"

# the commands' `create`/`delete` strings: constant, small; the script itself travels on stdin
RUN = "sudo -n bash -s {event}"
# every event a command runs (a layer's five, shutdown's prepare, the users step's two): the command string of each,
# and back (the model reads which event a command runs from this table, never by parsing the command)
RUN_EVENTS = ("setup", "deploy", "undeploy", "configure", "prepare", "shutdown", "users", "lock_users")
EVENT_OF = {RUN.format(event=e): e for e in RUN_EVENTS}
# sk_put DEST MODE: write stdin to DEST (created 0600 then chmod MODE, moved into place): every bundle defines it
SK_PUT = (
    "sk_put() {\n"
    "  local dest=$1 mode=$2\n"
    "  install -d -m 0755 \"$(dirname \"$dest\")\"\n"
    "  (umask 077 && cat > \"$dest.sk-new\")\n"
    "  chmod \"$mode\" \"$dest.sk-new\"\n"
    "  mv -f \"$dest.sk-new\" \"$dest\"\n"
    "}\n\n")


def shell_library(path: Path) -> str:
    """A file of bash functions (prelude.sh, users.sh) as a bundle includes it: without its shebang, shellcheck
    directive and `set` line (the bundle's head has them)."""
    return "\n".join(line for line in path.read_text().splitlines()
                     if not line.startswith(("#!", "# shellcheck shell=", "set -euo pipefail")))


def context(loaded: Loaded, view: dict[str, Any], layer: str) -> dict[str, Any]:
    """The render context of one layer's script or template (docs/design.md: render context)."""
    spec = loaded.specs[layer]
    return {**view, "attrs": loaded.attrs[view["instance"]["name"]],
            "layer": spec.model_dump(by_alias=True, exclude={"attributes", "scripts"}) | {"name": layer}}


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
    """Every value that reaches the bundle's own bash lines goes through here (the templates quote theirs)."""
    return shlex.quote(str(value))


def _fn(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def event_layers(loaded: Loaded, instance: str, event: str, app: str | None) -> list[str]:
    layers = loaded.config.instances[instance].layers
    if app is not None:
        layers = [la for la in layers if la in loaded.config.apps[app].layers]
    return list(layers)


def _generic_setup(loaded: Loaded, instance: str, volumes: list[dict[str, str]]) -> str:
    cfg = loaded.config
    layers = cfg.instances[instance].layers
    packages = sorted({p for la in layers for p in loaded.specs[la].packages})
    users = {u.name: u for la in layers for u in loaded.specs[la].users}
    host = q(cfg.hostname(instance))
    out = ["  sk_log \"waiting for cloud-init\"",
           "  if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null || true; fi",
           f"  hostnamectl set-hostname {host} 2>/dev/null || hostname {host}"]
    if packages:
        out.append("  sk_packages " + " ".join(q(p) for p in packages))
    for u in users.values():
        home = u.home or f"/home/{u.name}"
        flags = "--system " if u.system else ""
        out.append(f"  id -u {q(u.name)} >/dev/null 2>&1 || useradd {flags}--create-home --home-dir {q(home)} "
                   f"--shell {q(u.shell)} -- {q(u.name)}")
    for v in volumes:
        out.append(f"  sk_mount {q(v['device'])} {q(v['mount_point'])} ext4")
    return "\n".join(out) + "\n"


def _event_body(loaded: Loaded, instance: str, event: str, view: dict[str, Any], app: str | None,
                volumes: list[dict[str, str]]) -> str:
    parts = [f"  sk_log {q(event)}{' ' + q(app) if app else ''} on {q(instance)}\n",
             f"  rm -rf {STAGED} && install -d -m 0700 {STAGED}\n",
             _heredoc(f"{STATE_DIR}/state.json", "0600", json.dumps(view, sort_keys=True, separators=(",", ":"))),
             # OpsWorks' node JSON, from the same view (stackkit.cluster.opsworks): for ERB templates ported as they are
             _heredoc(f"{STATE_DIR}/node.json", "0600",
                      json.dumps(node(view, loaded), sort_keys=True, separators=(",", ":")))]
    if event == "setup":
        parts.append(_generic_setup(loaded, instance, volumes))
    layers = event_layers(loaded, instance, event, app)
    for la in layers:
        spec = loaded.specs[la]
        ctx = context(loaded, view, la)
        for t in spec.templates:
            if event in t.events:
                parts.append(_heredoc(f"{STAGED}{t.dest}", t.mode or "0644", render(f"{la}/{t.src}", ctx)))
    for la in layers:
        script = loaded.specs[la].scripts.get(event)
        if script:
            parts.append(f"  sk_layer_{_fn(la)}_{event}\n")
    if event == "shutdown":
        parts.append("  sync\n")
    return "".join(parts)


def _layer_functions(loaded: Loaded, instance: str, event: str, view: dict[str, Any], app: str | None) -> str:
    out = []
    for la in event_layers(loaded, instance, event, app):
        script = loaded.specs[la].scripts.get(event)
        if not script:
            continue
        body = render(script, context(loaded, view, la))
        body = "\n".join(line for line in body.splitlines() if not line.startswith("# shellcheck shell="))
        out.append(f"# --- layers/{script}\nsk_layer_{_fn(la)}_{event}() {{\n{body}\n}}\n")
    return "\n".join(out)


def bundle(loaded: Loaded, instance: str, views: dict[str, dict[str, Any]], app: str | None = None,
           volumes: list[dict[str, str]] | None = None) -> str:
    """The script for one command of `instance`, holding one or more events (`views`: event -> its view)."""
    volumes = volumes or []
    events = list(views)
    head = (f"#!/usr/bin/env bash\n# stackkit: {' | '.join(events)} for instance {instance}"
            f"{' app ' + app if app else ''} (stack {loaded.name})\n"
            "# generated by stackkit/lifecycle/bundle.py; run as: sudo bash -s <event>\nset -euo pipefail\n"
            "umask 022\n\n")
    prelude = shell_library(PRELUDE)
    fns = [_layer_functions(loaded, instance, e, views[e], app) for e in events]
    cases = "".join(f"  {e})\n{_event_body(loaded, instance, e, views[e], app, volumes)}    ;;\n" for e in events)
    if "prepare" in events:
        raise ValueError("'prepare' is not a lifecycle event")
    main = (
        SK_PUT +
        "sk_main() {\n"
        # 0755, not 0700: the daemons read their configs under it after a reboot (zope reads /etc/stackkit/plone/);
        # what is private in it is private by its own mode (state.json, node.json 0600, staged/ 0700, app.env 0600)
        f"  install -d -m 0755 {STATE_DIR}\n"
        "  case \"${1:-}\" in\n"
        f"{cases}"
        "  prepare)\n"
        "    # the command's create for a delete-only event: keep a copy to run by hand, nothing else\n"
        f"    install -d -m 0700 {STATE_DIR}/events\n"
        "    ;;\n"
        f"  *) echo \"usage: bash -s {{{'|'.join(events)}}}\" >&2; exit 2 ;;\n"
        "  esac\n"
        "}\n"
    )
    return head + prelude + "\n\n" + "\n".join(f for f in fns if f) + "\n" + main + "\nsk_main \"$@\" </dev/null\n"
