"""Where the console reads a stack from: Pulumi's Automation API (`Stack.export_stack()`, `outputs()`, the last
entry of `history()`), on the stack's own backend. A stack of this project (`Pulumi.<stack>.yaml`: the user's login
and secrets provider, as `pulumi` itself would use them) or a local stack on the local cloud (stackkit.local.stack:
its file backend and passphrase under the local cloud's folder). Nothing is written to the stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi import automation as auto

from stackkit.console.model import SECRET_SIG, SECRET_VALUE, Console, build
from stackkit.engine import workspace
from stackkit.errors import StackkitError
from stackkit.paths import ROOT


def project_stack(name: str, project_dir: Path = ROOT) -> auto.Stack:
    """A stack of the Pulumi project in `project_dir`, on the backend the user is logged in to."""
    ws = auto.LocalWorkspace(work_dir=str(project_dir), pulumi_command=workspace.command())
    try:
        return auto.Stack.select(name, ws)
    except auto.CommandError as exc:
        raise StackkitError(f"console: no stack {name} on this project's backend ({_last(exc)})") from None


def local_stack(name: str, workdir: Path) -> auto.Stack:
    """A local stack (`python -m stackkit local up NAME`) under the local cloud's folder `workdir`."""
    from stackkit.local.stack import engine_env

    project = workdir / name / "project"
    if not (project / "Pulumi.yaml").exists():
        raise StackkitError(f"console: no local stack {name} under {workdir}: `python -m stackkit local up {name}` "
                            "brings it up")
    ws = auto.LocalWorkspace(work_dir=str(project), env_vars=engine_env(workdir / name),
                             pulumi_home=str(workdir / "pulumi-home"), pulumi_command=workspace.command())
    try:
        return auto.Stack.select(name, ws)
    except auto.CommandError as exc:
        raise StackkitError(f"console: local stack {name}: {_last(exc)}") from None


def snapshot(stack: auto.Stack) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(the deployment, the outputs with each secret one as a secret object, when the last update started)."""
    deployment = dict(stack.export_stack().deployment or {})
    outputs = {k: {SECRET_SIG: SECRET_VALUE} if v.secret else v.value for k, v in stack.outputs().items()}
    history = stack.history(page_size=1)
    since = history[0].start_time.isoformat() if history else None
    return deployment, outputs, since


def read(stack: auto.Stack) -> Console:
    return build(*snapshot(stack))


def _last(exc: auto.CommandError) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return lines[-1].strip() if lines else "pulumi failed"
