"""A bare Pulumi program for benchmarks/engine.py: registers the resources listed in $BARE_RESOURCES (type, name,
custom, inputs) flat, with plain CustomResource / ComponentResource calls and no stackkit logic."""

import json
import os
from pathlib import Path

import pulumi

for r in json.loads(Path(os.environ["BARE_RESOURCES"]).read_text()):
    if r["custom"]:
        pulumi.CustomResource(r["type"], r["name"], dict(r["inputs"]))
    else:
        pulumi.ComponentResource(r["type"], r["name"], None)
