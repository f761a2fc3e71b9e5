"""The Pulumi program: load and validate the config, refuse an edit that would move or lose data or lock stackkit out
of the instances, then build the Stack. __main__.py calls `run()`."""

from __future__ import annotations

import pulumi

from stackkit.cluster.access import KEYS_OUTPUT, rotation_problems
from stackkit.cluster.data import HOLDERS_OUTPUT, data_moves, stale_retirements
from stackkit.components.previous import previous_outputs
from stackkit.components.stack import BASTION_OUTPUT, Stack
from stackkit.config.load import from_pulumi
from stackkit.errors import ConfigError, DataMoveError


class Refused(pulumi.RunError):
    """A StackkitError raised before anything is registered; Pulumi prints it without a stack trace. `error` keeps it
    as data for the offline plan."""

    def __init__(self, error: ConfigError | DataMoveError) -> None:
        super().__init__(str(error))
        self.error = error


def run() -> None:
    try:
        loaded = from_pulumi()
    except ConfigError as exc:
        # one line per problem; nothing is registered yet
        raise Refused(exc) from None
    # what the last deployment held, from its own outputs: an edit that would move or lose it, or lock stackkit out of
    # the instances, stops here, before the engine runs any setup or configure (it would otherwise stop only at the
    # protected delete at the end, or at the first command that cannot connect)
    previous = previous_outputs()
    held = previous.get(HOLDERS_OUTPUT)
    problems = data_moves(held, loaded) + rotation_problems(previous.get(KEYS_OUTPUT), loaded.config)
    if problems:
        raise Refused(DataMoveError(problems))
    for warning in stale_retirements(held, loaded):
        pulumi.log.warn(warning)
    stack = Stack(loaded, previous_bastion=previous.get(BASTION_OUTPUT))
    for key, value in stack.outputs.items():
        pulumi.export(key, value)
