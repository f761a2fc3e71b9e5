"""Pulumi entry point: `pulumi up -s <stack>` runs this with the stack's config (Pulumi.<stack>.yaml). The layers
beside the stack file (the project's own `layers/`) come before stackkit's own: the layer search path is set before
any module that reads it is imported."""

from pathlib import Path

import pulumi

from stackkit.paths import use_layers_of

use_layers_of(Path(pulumi.get_root_directory() or ".") / f"Pulumi.{pulumi.get_stack()}.yaml")

from stackkit.program import run  # noqa: E402 - after the layer search path is set

run()
