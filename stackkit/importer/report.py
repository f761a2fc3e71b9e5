"""IMPORT.md: what the import mapped, what it did not and why, the secrets to set, the recipes to port."""

from __future__ import annotations

from pathlib import Path

from stackkit.importer import recipes as rc
from stackkit.importer.mapping import Project
from stackkit.secrets import command


def render(project: Project, source: str, stack: str, cookbooks: Path | None = None) -> str:
    out = [f"# Imported from OpsWorks: {source}", "",
           f"`Pulumi.{stack}.yaml` and `layers/` were written by `python -m stackkit import opsworks`. Before "
           f"`pulumi up -s {stack}`: set the secrets, check the list below, port the recipes (docs/porting.md); "
           f"`python -m stackkit plan --config Pulumi.{stack}.yaml` shows what the stack makes.", ""]
    out += ["## Check before the first up", ""]
    out += [f"- {line}" for line in [project.os_note, *project.check] if line] or ["- nothing"]
    out += ["", "## Secrets to set (never written to the stack file)", ""]
    if project.secrets:
        out += ["| config path | what |", "|---|---|"]
        out += [f"| `{path}` | {what} |" for path, what in project.secrets]
        out += ["", "```sh"] + [command(path, stack) for path, _ in project.secrets] + ["```"]
    else:
        out.append("none")
    out += ["", "## Recipes to port", ""]
    to_port = [(la.name, event, r) for la in project.layers.values() for event, rs in la.recipes.items()
               for r in rs if r.status == "port"]
    if to_port:
        out += ["Each of these stops its event with a message until it is ported into the layer's script "
                "(`layers/<layer>/<event>.sh.j2`; docs/porting.md).", "",
                "| layer | event | recipe | kind |", "|---|---|---|---|"]
        out += [f"| {la} | {event} | `{r.name}` | {'custom' if r.custom else 'built-in'} |" for la, event, r in to_port]
    else:
        out.append("none: stackkit covers every recipe that ran")
    out += ["", "Covered or no longer needed:", ""]
    seen: set[str] = set()
    for la in project.layers.values():
        for rs in la.recipes.values():
            for r in rs:
                if r.status != "port" and r.name not in seen:
                    seen.add(r.name)
                    out.append(f"- `{r.name}`: {r.status}: {r.why}")
    out += ["", "### OpsWorks attributes the recipes read", ""]
    if cookbooks is None:
        out.append("Give the cookbooks (a checkout of the stack's custom cookbooks source) with `--cookbooks DIR` "
                   "to list the `node[...]` attributes each recipe reads and which of them stackkit's "
                   "`/etc/stackkit/node.json` provides (`node[:opsworks][...]`, `node[:deploy][app][...]`, "
                   "`node[:haproxy][...]`).")
    else:
        names = sorted({r.name for _, _, r in to_port if r.custom})
        for name in names:
            reads = rc.node_reads(cookbooks, name)
            if reads is None:
                out.append(f"- `{name}`: not found under {cookbooks} (recipes/<name>.rb of its cookbook)")
                continue
            if not reads:
                out.append(f"- `{name}`: reads no node attribute")
                continue
            provided = [k for k, ok in reads if ok]
            missing = [k for k, ok in reads if not ok]
            out.append(f"- `{name}`: node.json provides {', '.join(f'`{k}`' for k in provided) or 'none of them'}; "
                       f"not provided (custom JSON → attributes, or port): "
                       f"{', '.join(f'`{k}`' for k in missing) or 'none'}")
    if project.adopted:
        out += ["", "## Adopted (imported by the first up, not created)", "",
                "| config path | id |", "|---|---|"]
        out += [f"| `{path}` | `{ident}` |" for path, ident in project.adopted]
        out += ["", "Each is protected: `pulumi up` imports it, and no later edit deletes or replaces it without "
                "`pulumi state unprotect` first."]
    out += ["", "## Mapped", "", "| OpsWorks | stackkit |", "|---|---|"]
    out += [f"| {a} | `{b}` |" for a, b in project.mapped]
    out += ["", "## Reported, not mapped", ""]
    out += [f"- {what}: {why}" if what != "note" else f"- {why}" for what, why in project.reported] or ["- nothing"]
    return "\n".join(out) + "\n"
