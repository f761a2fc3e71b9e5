"""What ran at each event of an OpsWorks layer, and what stackkit does about each recipe.

OpsWorks ran a layer's built-in recipes (its type's; `DefaultRecipes` in describe-layers) and then its custom recipes.
Each recipe here is covered by stackkit itself, no longer needed, or to port: an event with a recipe to port stops with
a message naming it, so a half-configured machine never looks healthy (docs/porting.md says how to port one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from stackkit.config.layerspec import EVENTS

OPSWORKS_EVENTS = {"setup": "Setup", "configure": "Configure", "deploy": "Deploy", "undeploy": "Undeploy",
                   "shutdown": "Shutdown"}
# the built-in recipes of a custom layer (every OpsWorks layer ran these; AWS's describe-layers samples list them)
CUSTOM_DEFAULTS = {
    "setup": ["opsworks_initial_setup", "ssh_host_keys", "ssh_users", "mysql::client", "dependencies", "ebs",
              "opsworks_ganglia::client"],
    "configure": ["opsworks_ganglia::configure-client", "ssh_users", "mysql::client", "agent_version"],
    "deploy": ["deploy::default"],
    "undeploy": [],
    "shutdown": ["opsworks_shutdown::default"],
}
# recipe -> what stackkit does instead (a recipe here never stops an event)
COVERED = {
    "opsworks_initial_setup": "stackkit's setup step (hostname, base packages, the deploy user)",
    "ssh_host_keys": "stackkit's derived SSH host keys (docs/design.md, \"SSH host keys\")",
    "ssh_users": "stackkit's users step (stackkit:users)",
    "dependencies": "the layer's packages: (layer.yaml)",
    "ebs": "the layer's volumes and registered volumes (mounted by the setup step)",
    "deploy::default": "stackkit's app deploy (the deploy user, releases/, current)",
    "opsworks_shutdown::default": "stackkit's stop (load balancer deregistration, then shutdown)",
    "mysql::client": "not installed by default: add a MySQL client to the layer's packages: if your app needs one",
}
DROPPED = {
    "opsworks_ganglia::client": "Ganglia monitoring was OpsWorks' own; stackkit uses CloudWatch",
    "opsworks_ganglia::configure-client": "Ganglia monitoring was OpsWorks' own; stackkit uses CloudWatch",
    "agent_version": "the OpsWorks agent is gone",
}


@dataclass(frozen=True)
class Recipe:
    name: str
    custom: bool
    status: str          # "covered", "dropped" or "port"
    why: str


def classify(name: str, custom: bool) -> Recipe:
    if name in COVERED:
        return Recipe(name, custom, "covered", COVERED[name])
    if name in DROPPED:
        return Recipe(name, custom, "dropped", DROPPED[name])
    return Recipe(name, custom, "port", "to port: docs/porting.md")


def event_recipes(layer: dict[str, object], known_defaults: bool) -> dict[str, list[Recipe]]:
    """The recipes that ran at each event of `layer` (an API Layer record), built-in first, then custom, in order.
    Without DefaultRecipes (a template), a custom layer's are CUSTOM_DEFAULTS and a built-in type's stand as one
    recipe to port, named after the type."""
    defaults = layer.get("DefaultRecipes")
    custom = layer.get("CustomRecipes") or {}
    ltype = str(layer.get("Type") or "custom")
    out: dict[str, list[Recipe]] = {}
    for event in EVENTS:
        key = OPSWORKS_EVENTS[event]
        if isinstance(defaults, dict):
            builtin = list(defaults.get(key) or [])
        elif ltype == "custom" or not known_defaults:
            builtin = list(CUSTOM_DEFAULTS[event])
            if ltype != "custom" and event == "setup":
                builtin.append(f"{ltype} (the built-in recipes of an OpsWorks {ltype} layer)")
        else:
            builtin = []
        mine = list(custom.get(key) or []) if isinstance(custom, dict) else []
        out[event] = [classify(r, False) for r in builtin] + [classify(r, True) for r in mine]
    return out


def script(layer_name: str, opsworks_name: str, event: str, recipes: list[Recipe]) -> str:
    """The event script of an imported layer: the recipes as comments, and a stop for those to port."""
    lines = ["# shellcheck shell=bash",
             f"# {event}, imported from the OpsWorks layer {opsworks_name!r}: the recipes that ran, in order."]
    if not recipes:
        lines.append("#   (none)")
    for r in recipes:
        lines.append(f"#   {r.name:<40} {'custom' if r.custom else 'built-in'}: {r.status}: {r.why}")
    port = [r.name for r in recipes if r.status == "port"]
    if port:
        listing = ", ".join(port)
        message = (f"layer {layer_name}: {event}: not ported from OpsWorks yet: {listing}; port them into "
                   f"layers/{layer_name}/{event}.sh.j2 (docs/porting.md) and remove this line")
        lines += ["# Port each recipe into this script (docs/porting.md), then delete the line below.",
                  f"sk_die {_q(message)}"]
    else:
        lines.append("# nothing to port: stackkit covers every recipe above")
        lines.append("true")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


# --- attributes the recipes read ----------------------------------------------------------------------------------

NODE_REF = re.compile(r"node\[\s*[:'\"]([A-Za-z0-9_\-]+)['\"]?\s*\](?:\s*\[\s*[:'\"]([A-Za-z0-9_\-]+)['\"]?\s*\])?")
# what stackkit's /etc/stackkit/node.json holds (stackkit.cluster.opsworks.node): the first two levels
NODE_PROVIDED = {
    "opsworks": {"activity", "stack", "layers", "instance", "applications"},
    "deploy": None,         # per app: every key OpsWorks' deploy[app] had that stackkit knows (docs/porting.md)
    "haproxy": None,
}


def node_reads(cookbooks: Path, recipe: str) -> list[tuple[str, bool]] | None:
    """(node[a][b] read, does node.json provide it) for a recipe `cookbook::name` under `cookbooks`: its
    recipes/<name>.rb and the templates it renders. None when the recipe is not there."""
    cookbook, _, name = recipe.partition("::")
    folder = cookbooks / cookbook
    path = folder / "recipes" / f"{name or 'default'}.rb"
    if not path.is_file():
        return None
    text = path.read_text(errors="replace")
    # the recipe and the templates it renders (`source "x.erb"`)
    texts = [text] + [t.read_text(errors="replace") for src in re.findall(r"source\s+[\"']([^\"']+\.erb)[\"']", text)
                      for t in sorted((folder / "templates").rglob(src))]
    found: dict[str, bool] = {}
    for t in texts:
        for m in NODE_REF.finditer(t):
            top, second = m.group(1), m.group(2)
            key = f"node[:{top}]" + (f"[:{second}]" if second else "")
            allowed = NODE_PROVIDED.get(top, set())
            found[key] = top in NODE_PROVIDED and (allowed is None or second is None or second in allowed)
    return sorted(found.items())
