"""The Pulumi program: load and validate the config, then build the Stack. __main__.py calls `run()`."""

from __future__ import annotations

import pulumi

from stackkit.config.load import from_pulumi
from stackkit.errors import ConfigError


def run() -> None:
    try:
        loaded = from_pulumi()
    except ConfigError as exc:
        # one line per problem; RunError is printed by Pulumi without a stack trace; nothing is registered yet
        raise pulumi.RunError(str(exc)) from None
    from stackkit.components.stack import Stack

    stack = Stack(loaded)
    for key, value in stack.outputs.items():
        pulumi.export(key, value)
