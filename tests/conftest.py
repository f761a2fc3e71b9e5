"""Shared fixtures: the three shipped stacks evaluated once per session under Pulumi's mock runtime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.plan.evaluate import Plan, evaluate

ROOT = Path(__file__).resolve().parent.parent
STACKS = {
    "production": ROOT / "Pulumi.production.yaml",
    "staging": ROOT / "Pulumi.staging.yaml",
    "relstorage": ROOT / "examples/Pulumi.relstorage.yaml",
}
STAGED = re.compile(r"sk_put /etc/stackkit/staged(\S+) (\d+) <<'(SK_EOF_\w+)'\n(.*?)\n\3\n", re.S)


@pytest.fixture(scope="session")
def stack_files() -> dict[str, StackFile]:
    return {name: read_stack_file(path) for name, path in STACKS.items()}


@pytest.fixture(scope="session")
def plans(stack_files: dict[str, StackFile]) -> dict[str, Plan]:
    return {name: evaluate(sf) for name, sf in stack_files.items()}


def bundles(plan: Plan) -> dict[str, str]:
    """command name -> the script it sends on stdin (real values, secrets included: test-only)."""
    return {r.name: r.secret_inputs["stdin"] for r in plan.of_type("command:remote:Command")}


def staged_files(bundle: str) -> dict[str, str]:
    """destination path -> content of every template the bundle stages."""
    return {m.group(1): m.group(4) + "\n" for m in STAGED.finditer(bundle)}
