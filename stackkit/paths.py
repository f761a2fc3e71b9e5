"""Where the project's own files are: one owner for these facts.

stackkit runs from this repository's checkout (the reference project: Pulumi.yaml, the stack files and layers/ at its
top level; also `pip install -e .`) or installed from its wheel, where the shipped layers are package data
(stackkit/layers) and the project is the user's own repository (docs/package.md)."""

from __future__ import annotations

import os
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
