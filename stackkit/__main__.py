"""python -m stackkit: the same verbs as the `stackkit` command."""

import sys

from stackkit.cli import main

sys.exit(main(prog="python -m stackkit"))
