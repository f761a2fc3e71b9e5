"""Where the project's own files are: one owner for these facts.

stackkit runs from this repository's checkout (the reference project: Pulumi.yaml, the stack files and layers/ at its
top level; also `pip install -e .`) or installed from its wheel, where the shipped layers are package data
(stackkit/layers) and the project is the user's own repository (docs/package.md)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent              # stackkit/: the library
# this repository, when stackkit runs from it; None when installed from the wheel
CHECKOUT: Path | None = PACKAGE.parent if (PACKAGE.parent / "Pulumi.yaml").is_file() else None
# the shipped layers: package data in the wheel, the top-level layers/ in the checkout
PACKAGED_LAYERS = PACKAGE / "layers" if (PACKAGE / "layers").is_dir() else PACKAGE.parent / "layers"


def project(start: Path) -> Path | None:
    """The nearest folder holding a Pulumi.yaml, from `start` upwards: the project, as Pulumi's CLI finds it."""
    return next((folder for folder in (start, *start.parents) if (folder / "Pulumi.yaml").is_file()), None)


def _cwd() -> Path | None:
    try:
        return Path.cwd()
    except FileNotFoundError:        # run from a folder since removed
        return None


# the project: Pulumi.yaml, the stack files, __main__.py (the working folder's, else this checkout, else the working
# folder itself)
ROOT = (project(_cwd() or PACKAGE) or CHECKOUT or _cwd() or PACKAGE.parent).resolve()
# the layer folders (STACKKIT_LAYERS_DIR: another tree of layers, e.g. a user's own beside the shipped ones)
LAYERS_DIR = Path(os.environ.get("STACKKIT_LAYERS_DIR") or PACKAGED_LAYERS)
SHIPPED_LAYERS_DIR = LAYERS_DIR


def layer_search_path(stack_file: Path) -> list[Path]:
    """Where a stack file's layers are looked up, first match wins: `layers/` beside the stack file (an imported or
    your own project), then stackkit's own (LAYERS_DIR)."""
    beside = stack_file.resolve().parent / "layers"
    own = beside.is_dir() and beside not in (SHIPPED_LAYERS_DIR.resolve(), PACKAGED_LAYERS.resolve())
    return [beside, SHIPPED_LAYERS_DIR] if own else [SHIPPED_LAYERS_DIR]


def layers_tree(stack_file: Path) -> Path:
    """One tree of layers for the layer search path of `stack_file`: LAYERS_DIR when it has only that, else a folder of
    links to each layer's first match, one per search path (~/.cache/stackkit/layers/<digest>), rebuilt when its
    layers change. Changes nothing in this process."""
    dirs = layer_search_path(stack_file)
    if len(dirs) == 1:
        return SHIPPED_LAYERS_DIR
    want: dict[str, Path] = {}
    for d in dirs:
        for layer in sorted(p for p in d.iterdir() if (p / "layer.yaml").is_file()):
            want.setdefault(layer.name, layer.resolve())
    key = hashlib.sha256("\0".join(str(d.resolve()) for d in dirs).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stackkit" / "layers"
    tree = cache / key
    have = {p.name: p.resolve() for p in tree.iterdir()} if tree.is_dir() else None
    if have != want:
        cache.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
        for name, target in want.items():
            (new / name).symlink_to(target, target_is_directory=True)
        old = Path(tempfile.mkdtemp(prefix=f".{key}-old-", dir=cache))
        if tree.exists():
            tree.rename(old / key)
        new.rename(tree)
        shutil.rmtree(old, ignore_errors=True)
    return tree


def use_layers_of(stack_file: Path) -> Path:
    """Make the layer search path of `stack_file` this process's (and its children's) one tree of layers (the CLI
    for the stack file it names, the Pulumi program for its project's): what layers_dir() gives from now on."""
    global LAYERS_DIR
    LAYERS_DIR = layers_tree(stack_file)
    os.environ["STACKKIT_LAYERS_DIR"] = str(LAYERS_DIR)
    return LAYERS_DIR


def layers_dir() -> Path:
    """The tree of layers in use now (read it when needed, never bind it at import: use_layers_of may change it)."""
    return LAYERS_DIR
