"""`python -m stackkit docs [--check] [--no-engine]`: regenerate what is derived from code and metadata —
docs/layers.md from the layers' layer.yaml, the production graph in README.md, docs/lifecycle.md's event table from
the real engine's previews — or, with --check, fail if one is stale."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stackkit.config.attribute_kinds import KINDS, attribute_leaves
from stackkit.config.layerspec import LayerSpec, Port, load_layer_specs
from stackkit.errors import StackkitError
from stackkit.graph import _load_file, graph
from stackkit.lifecycle.scenarios import SCENARIOS
from stackkit.paths import CHECKOUT, PACKAGED_LAYERS
from stackkit.plan.against import apply_changes, previews, table

BEGIN, END = "<!-- graph:production:begin -->", "<!-- graph:production:end -->"


def _from(p: Port) -> str:
    src = p.from_
    return src if isinstance(src, str) else "layers " + ", ".join(src.layers)


def type_text(t: dict[str, object]) -> str:
    kind = str(t.get("type", "?"))
    if kind == "int":
        lo, hi = t.get("min"), t.get("max")
        text = f"whole number {lo if lo is not None else ''}…{hi if hi is not None else ''}"
    elif kind == "choice":
        text = " \\| ".join(f"`{v}`" for v in t.get("of", []))  # type: ignore[attr-defined]
    elif kind in KINDS:
        text = KINDS[kind][1].split(" (")[0]
    else:
        text = kind
    text += "".join(f" or `{v}`" for v in t.get("or", []))  # type: ignore[attr-defined]
    return text + (", or null" if t.get("nullable") else "")


def layer_section(spec: LayerSpec) -> str:
    lines = [f"## {spec.name}", "", spec.description.strip(), ""]
    lines.append(f"- packages: {', '.join(f'`{p}`' for p in spec.packages) or 'none'}")
    lines.append(f"- watches: {', '.join(spec.watches) or 'nothing'} (configure re-runs when their members change)")
    lines.append(f"- events with a script: {', '.join(e for e in spec.scripts) or 'none'}")
    if spec.requires:
        lines.append(f"- must share its instance with: {', '.join(spec.requires)}")
    if spec.tls:
        lines.append("- terminates TLS: receives the apps' SSL keys")
    reads = spec.configure_reads
    if reads is None:
        lines.append("- configure reads every part of every app (no `configure_reads`): any app change re-runs it")
    elif reads.apps == "none":
        lines.append("- configure reads no app: an app change never re-runs it")
    else:
        which = {"behind": "the apps deployed to the layers it watches", "here": "the apps deployed to its instance",
                 "all": "every app"}[reads.apps]
        lines.append(f"- configure reads of {which}: {', '.join(reads.parts) or 'only which they are'} "
                     "(a change elsewhere in the apps does not re-run it)")
    for var, t in sorted(spec.reads_environment.items()):
        lines.append(f"- reads the apps' environment variable `{var}` into its config: {type_text(t)} (checked at load)")
    if spec.load_balancer:
        lines.append(f"- can sit behind a load balancer: port {spec.load_balancer.port}, "
                     f"health check `{spec.load_balancer.health_check_path}`")
    if spec.ports:
        lines += ["", "| port | protocol | from | what |", "|---|---|---|---|"]
        lines += [f"| {p.label} | {p.protocol} | {_from(p)} | {p.description} |" for p in spec.ports]
    if spec.volumes:
        lines += ["", "| volume | mount point | size | type | encrypted |", "|---|---|---|---|---|"]
        lines += [f"| {v.name} | `{v.mount_point}` | {v.size_gb} GB | {v.type} | {v.encrypted} |" for v in spec.volumes]
    if spec.templates:
        lines += ["", "| template | destination | events |", "|---|---|---|"]
        lines += [f"| `{t.src}` | `{t.dest}` | {', '.join(t.events)} |" for t in spec.templates]
    if spec.attributes:
        lines += ["", "Attributes (override per stack, layer or instance; each value is checked against its type at load; "
                  "see the layer's README):", "", "| attribute | default | type |", "|---|---|---|"]
        lines += [f"| `{name}` | `{json.dumps(default)}` | {type_text(spec.types.get(name, {}))} |"
                  for name, default in sorted(attribute_leaves(spec.attributes))]
    return "\n".join(lines) + "\n"


def layers_markdown(layers_dir: Path = PACKAGED_LAYERS) -> str:
    specs, problems = load_layer_specs(layers_dir)
    if problems:
        raise StackkitError("\n".join(problems))
    head = ("# Layers\n\nGenerated from `layers/*/layer.yaml` by `python -m stackkit docs`; a test keeps it current.\n"
            "Each layer's own README.md explains its attributes and scripts.\n\n")
    return head + "\n".join(layer_section(s) for s in specs.values())


def readme_with_graph(readme: str, graph_text: str) -> str:
    if BEGIN not in readme or END not in readme:
        raise StackkitError(f"README.md has no {BEGIN} ... {END} block for the production graph")
    before, rest = readme.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    return f"{before}{BEGIN}\n```mermaid\n{graph_text}```\n{END}{after}"


def _repo() -> Path:
    """This repository: the generated files are its own."""
    if CHECKOUT is None:
        raise StackkitError("docs regenerates this repository's own files: run it in a clone of stackkit")
    return CHECKOUT


def generated(engine: bool = False) -> dict[Path, str]:
    """Every generated file's content; with `engine`, also docs/lifecycle.md's table, from the real engine's previews
    of the documented changes (stackkit.plan.against: needs Pulumi's CLI and a network namespace)."""
    repo = _repo()
    readme = (repo / "README.md").read_text()
    out = {
        repo / "docs/layers.md": layers_markdown(),
        repo / "README.md": readme_with_graph(readme, graph(_load_file(repo / "Pulumi.production.yaml"))),
    }
    if engine:
        out[repo / "docs/lifecycle.md"] = lifecycle_with_table((repo / "docs/lifecycle.md").read_text())
    return out


TABLE_BEGIN, TABLE_END = "<!-- lifecycle:table:begin -->", "<!-- lifecycle:table:end -->"


def lifecycle_with_table(doc: str) -> str:
    repo = _repo()
    prod = repo / "Pulumi.production.yaml"
    base: dict[str, object] = {"stack_file": str(prod), "program": str(repo), "config": None, "change": {}}
    results = previews(base, apply_changes(prod, [c for _, c, _ in SCENARIOS]), "production")
    rows = table([(name, r) for (name, _, _), r in zip(SCENARIOS, results, strict=True)])
    before, rest = doc.split(TABLE_BEGIN, 1)
    _, after = rest.split(TABLE_END, 1)
    return f"{before}{TABLE_BEGIN}\n{rows}{TABLE_END}{after}"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("docs", help="regenerate docs/layers.md, README's production graph and docs/lifecycle.md's table "
                                    "(--check: fail if stale)")
    p.add_argument("--check", action="store_true")
    p.add_argument("--no-engine", action="store_true",
                   help="leave docs/lifecycle.md's table (it comes from the real engine's previews: a few minutes)")

    def run(args: argparse.Namespace) -> int:
        stale = []
        for path, text in generated(engine=not args.no_engine).items():
            if path.exists() and path.read_text() == text:
                continue
            if args.check:
                stale.append(str(path.relative_to(_repo())))
            else:
                path.write_text(text)
                print(f"wrote {path.relative_to(_repo())}")
        if stale:
            raise StackkitError(f"stale: {', '.join(stale)}; run `python -m stackkit docs`")
        return 0

    p.set_defaults(fn=run)
