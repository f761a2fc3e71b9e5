"""Where the project's own files are: one owner for these facts."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent       # the project: Pulumi.yaml, the stack files, layers/, docs/
# the layer folders (STACKKIT_LAYERS_DIR: another tree of layers, e.g. a user's own beside the shipped ones)
LAYERS_DIR = Path(os.environ.get("STACKKIT_LAYERS_DIR") or ROOT / "layers")
SHIPPED_LAYERS_DIR = LAYERS_DIR


def layer_search_path(stack_file: Path) -> list[Path]:
    """Where a stack file's layers are looked up, first match wins: `layers/` beside the stack file (an imported or
    your own project), then stackkit's own (LAYERS_DIR)."""
    beside = stack_file.resolve().parent / "layers"
    return [beside, SHIPPED_LAYERS_DIR] if beside.is_dir() and beside != SHIPPED_LAYERS_DIR.resolve() \
        else [SHIPPED_LAYERS_DIR]


def use_layers_of(stack_file: Path) -> Path:
    """Make the layer search path of `stack_file` this process's (and its children's) one tree of layers, before any
    module reads LAYERS_DIR: a folder of links to each layer's first match (under ~/.cache/stackkit/layers/)."""
    global LAYERS_DIR
    dirs = layer_search_path(stack_file)
    if len(dirs) == 1:
        return LAYERS_DIR
    import hashlib
    import tempfile

    key = hashlib.sha256("\0".join(str(d) for d in dirs).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stackkit" / "layers"
    cache.mkdir(parents=True, exist_ok=True)
    tree = Path(tempfile.mkdtemp(prefix=f"{key}-", dir=cache))
    seen: set[str] = set()
    for d in dirs:
        for layer in sorted(p for p in d.iterdir() if (p / "layer.yaml").is_file()):
            if layer.name not in seen:
                seen.add(layer.name)
                (tree / layer.name).symlink_to(layer.resolve(), target_is_directory=True)
    LAYERS_DIR = tree
    os.environ["STACKKIT_LAYERS_DIR"] = str(tree)
    return tree
