"""Shared fixtures: the three shipped stacks evaluated once per session under Pulumi's mock runtime."""

from __future__ import annotations

import pytest

from stackkit.config.stackfile import StackFile, read_stack_file
from stackkit.lifecycle import bundle
from stackkit.paths import ROOT
from stackkit.plan.evaluate import Plan, evaluate

STACKS = {
    "production": ROOT / "Pulumi.production.yaml",
    "staging": ROOT / "Pulumi.staging.yaml",
    "relstorage": ROOT / "examples/Pulumi.relstorage.yaml",
}


@pytest.fixture(scope="session")
def stack_files() -> dict[str, StackFile]:
    return {name: read_stack_file(path) for name, path in STACKS.items()}


@pytest.fixture(scope="session")
def plans(stack_files: dict[str, StackFile]) -> dict[str, Plan]:
    return {name: evaluate(sf) for name, sf in stack_files.items()}


def bundles(plan: Plan) -> dict[str, str]:
    """command name -> the script it runs on its instance (real values, secrets included: test-only)."""
    return {r.name: bundle.rendered(r.secret_inputs["stdin"]) for r in plan.of_type("command:remote:Command")}


def staged(plan: Plan) -> dict[str, dict[str, str]]:
    """command name -> (destination path -> content of every template it stages), from the commands' jobs."""
    return {r.name: bundle.staged_files(r.secret_inputs["stdin"]) for r in plan.of_type("command:remote:Command")}


def staged_files(stdin: str) -> dict[str, str]:
    """destination path -> content of every template a command's stdin (its job) stages."""
    return bundle.staged_files(stdin)
