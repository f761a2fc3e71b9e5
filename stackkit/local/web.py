"""Which layers serve the stack's web traffic: decided from the layers' own metadata (a port 80 open to the internet),
not from their names."""

from __future__ import annotations

from stackkit.config.layerspec import load_layer_specs
from stackkit.paths import layers_dir


def web_layers() -> set[str]:
    specs, _ = load_layer_specs(layers_dir())
    return {name for name, spec in specs.items() if any(p.from_ == "internet" and p.port == 80 for p in spec.ports)}
