"""A Pulumi project folder driven through Pulumi's Automation API (pulumi.automation), with the CLI stackkit uses.

`select(project_dir, stack, env)` creates or selects the stack (passphrase secrets) and returns pulumi.automation's
Stack, whose up/preview/refresh/destroy run the real engine; `config_set_secret` sets one secret config value read
from stdin (the Automation API's own set_config passes the value on the command line, where other users of the
machine can read it in the process list).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from pulumi import automation as auto

from stackkit.engine.toolchain import cli
from stackkit.errors import LocalError


def command() -> auto.PulumiCommand:
    exe = cli()
    if exe.parent.name == "bin":
        return auto.PulumiCommand(root=str(exe.parent.parent))
    return auto.PulumiCommand()


def select(project_dir: Path, stack: str, env: Mapping[str, str], pulumi_home: Path | None = None) -> auto.Stack:
    ws = auto.LocalWorkspace(work_dir=str(project_dir), env_vars=dict(env), secrets_provider="passphrase",
                             pulumi_home=str(pulumi_home) if pulumi_home else None, pulumi_command=command())
    return auto.Stack.create_or_select(stack, ws)


def config_set_secret(stack: auto.Stack, path: str, value: str) -> None:
    """`pulumi config set --secret --path PATH` with the value on stdin."""
    ws = stack.workspace
    env = {**os.environ, **ws.env_vars, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    if ws.pulumi_home:
        env["PULUMI_HOME"] = ws.pulumi_home
    exe = ws.pulumi_command.command
    out = subprocess.run([exe, "config", "set", "--secret", "--path", "--stack", stack.name, path, "--non-interactive"],
                         input=value, cwd=ws.work_dir, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise LocalError(f"pulumi config set {path} failed: {out.stderr.strip()[-500:]}")
