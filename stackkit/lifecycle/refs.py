"""What a layer file reads of the instance's attributes and of its layer's metadata, from its Jinja syntax tree.

A command's job carries only those values (stackkit.lifecycle.bundle), so that changing an attribute changes the input
of exactly the commands whose files read it (`plone.threads`: configure, not deploy), as when the rendered script
was the input. `attrs.plone.threads`, `attrs["plone"]["threads"]` and `attrs.plone` are paths; `attrs` used in any
other way (passed whole to a filter, looped over) counts as reading all of it. The same holds for `layer`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from jinja2 import nodes

from stackkit.errors import TemplateError
from stackkit.lifecycle.render import environment, is_shell

ROOTS = ("attrs", "layer")
# the tags that name another file, which the instance would not have (it renders only the files layer.yaml lists)
OTHER_FILE = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "from ... import",
              nodes.Extends: "extends"}


@dataclass
class Reads:
    paths: dict[str, set[tuple[str, ...]]] = field(default_factory=lambda: {r: set() for r in ROOTS})
    whole: set[str] = field(default_factory=set)     # roots read as a whole

    def update(self, other: Reads) -> None:
        for r in ROOTS:
            self.paths[r] |= other.paths[r]
        self.whole |= other.whole


def _path(node: nodes.Node) -> tuple[str, tuple[str, ...]] | None:
    """(root, keys) of an `attrs.a.b` / `attrs["a"]["b"]` chain ending at `node`, else None."""
    keys: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            keys.append(node.attr)
            node = node.node
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            keys.append(node.arg.value)
            node = node.node
        else:
            break
    if isinstance(node, nodes.Name) and node.name in ROOTS and node.ctx == "load":
        return node.name, tuple(reversed(keys))
    return None


def _walk(node: nodes.Node, out: Reads) -> None:
    found = _path(node)
    if found is not None:
        root, keys = found
        if keys:
            out.paths[root].add(keys)
        else:
            out.whole.add(root)
        return                      # the chain's inner nodes are part of this path
    for child in node.iter_child_nodes():
        _walk(child, out)


@cache
def _reads(layers_dir: str, name: str, source: str) -> Reads:
    env = environment(layers_dir, is_shell(name))
    tree = env.parse(source, name=name)
    for node in tree.find_all(tuple(OTHER_FILE)):
        tag = OTHER_FILE[type(node)]
        raise TemplateError(f"layers/{name}:{node.lineno}: {{% {tag} %}} is not supported: the instance renders each "
                            "file of layer.yaml's scripts and templates from its own source alone, so another file it "
                            "names would not be there; write its text into this file")
    out = Reads()
    _walk(tree, out)
    return out


def reads(layers_dir: Path, name: str) -> Reads:
    """What the file `name` (under layers/) reads of `attrs` and `layer`."""
    return _reads(str(layers_dir), name, (layers_dir / name).read_text())


def prune(data: dict, paths: set[tuple[str, ...]]) -> dict:
    """`data` with only the values at `paths` (a path that is not there is left out: the render then fails on it, as it
    would on the whole)."""
    out: dict = {}
    for path in sorted(paths):
        src, dst = data, out
        for i, key in enumerate(path):
            if not isinstance(src, dict) or key not in src:
                break
            if i == len(path) - 1:
                dst[key] = copy.deepcopy(src[key])
            else:
                src = src[key]
                if key in dst and not isinstance(dst[key], dict):
                    break                       # a shorter path already took the whole value
                dst = dst.setdefault(key, {})
    return out
