"""`pulumi-resource-aws` of the local cloud: `python -m stackkit.local.aws <engine address>`. The engine starts it from
the local cloud's own plugin cache (stackkit.local.stack.plugin_home installs it there as pulumi-aws' version)."""

import sys

from pulumi.provider.experimental.server import main

from stackkit.local.aws.kinds import aws_version
from stackkit.local.aws.provider import StandInAws, folder
from stackkit.local.aws.values import tolerate_stored_archives

if __name__ == "__main__":
    tolerate_stored_archives()
    main(sys.argv[1:], aws_version(), StandInAws(folder()))
