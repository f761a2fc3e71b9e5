"""The previous deployment's stack outputs, read by the program before it registers anything.

`pulumi:pulumi:readStackOutputs` is the engine's builtin invoke behind StackReference (pkg/resource/deploy/builtins.go):
called on the stack being updated, it returns the outputs of its last checkpoint. Unlike a StackReference resource, the
invoke is synchronous (`pulumi.runtime.invoke`) and leaves nothing in the state, so a refusal can come before the first
registration. A stack never updated has no outputs; under the offline plan's mocks, the plan supplies them.

Observed on the file backend: the engine may be writing the checkpoint while the program reads it (the first update
of a new stack writes the root resource's create at the same moment), and the read then fails with "failed to load
checkpoint: EOF". The read is tried again; if it keeps failing the run stops: the check is never skipped.
"""

from __future__ import annotations

import time
from typing import Any

import pulumi

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"
ATTEMPTS = 8


def own_stack() -> str:
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


def previous_outputs() -> dict[str, Any]:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": own_stack()})
            return dict((result.value or {}).get("outputs") or {})
        except Exception as exc:  # noqa: BLE001 the engine reports a failed invoke as a plain Exception
            if attempt == ATTEMPTS:
                raise pulumi.RunError(
                    f"could not read the outputs of the last deployment of {own_stack()}, which stackkit needs to "
                    f"refuse an edit that would lose data ({exc}); run the command again") from None
            time.sleep(0.1 * attempt)
    return {}
