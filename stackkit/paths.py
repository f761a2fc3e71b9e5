"""Where the project's own files are: one owner for these facts."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent       # the project: Pulumi.yaml, the stack files, layers/, docs/
# the layer folders (STACKKIT_LAYERS_DIR: another tree of layers, e.g. a user's own beside the shipped ones)
LAYERS_DIR = Path(os.environ.get("STACKKIT_LAYERS_DIR") or ROOT / "layers")
