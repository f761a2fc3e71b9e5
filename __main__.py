"""Pulumi entry point: `pulumi up -s <stack>` runs this with the stack's config (Pulumi.<stack>.yaml). The layers
beside the stack file (the project's own `layers/`) come before stackkit's own: the layer search path is set from the
project's folder under the engine (under the offline plan's mocks, stackkit.plan.evaluate has set it)."""

from pathlib import Path

import pulumi

from stackkit.paths import use_layers_of
from stackkit.program import run

if pulumi.get_root_directory():
    use_layers_of(Path(pulumi.get_root_directory()) / f"Pulumi.{pulumi.get_stack()}.yaml")
run()
