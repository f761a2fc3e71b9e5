"""python -m stackkit. With `--config DIR/Pulumi.<stack>.yaml`, DIR/layers/ comes before stackkit's own layers: the
layer search path is set (stackkit.paths.use_layers_of) before any module that reads it is imported."""

import sys
from pathlib import Path

from stackkit.paths import use_layers_of


def _config(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg.partition("=")[2]
    return None


if (config := _config(sys.argv[1:])) is not None:
    use_layers_of(Path(config))

from stackkit.cli import main  # noqa: E402 - after the layer search path is set, as every sub-command reads it

sys.exit(main(prog="python -m stackkit"))
