"""`pulumi-resource-aws` for the local cloud: `python -m stackkit.engine.aws <engine address>` (the engine starts it)."""

import sys

from pulumi.provider.experimental.server import main

from stackkit.engine.aws.provider import StandInAws, folder

# the version of pulumi-aws whose interface this stands in for (requirements.txt pins the same SDK)
VERSION = "7.51.1"

if __name__ == "__main__":
    main(sys.argv[1:], VERSION, StandInAws(folder()))
