import sys

from stackkit.cli import main

sys.exit(main(prog="python -m stackkit"))
