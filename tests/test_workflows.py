"""The GitHub workflows: actionlint finds nothing (and does find a planted mistake), and they do what docs/ci.md says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
ACTIONLINT = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    if ACTIONLINT is None:
        pytest.fail("actionlint is not installed: run scripts/setup (requirements-dev.txt pins it)")
    return subprocess.run([ACTIONLINT, "-no-color", *map(str, files)], capture_output=True, text=True, timeout=120)


def test_actionlint_passes() -> None:
    assert len(WORKFLOWS) == 2
    result = _actionlint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout


def test_actionlint_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    result = _actionlint(bad)
    assert result.returncode != 0 and 'property "nope" is not defined' in result.stdout


def _load(name: str) -> dict:
    return YAML(typ="safe").load((ROOT / ".github/workflows" / name).read_text())


def _uses(job: dict) -> dict[str, dict]:
    return {s["uses"].split("@")[0]: s.get("with", {}) for s in job["steps"] if "uses" in s}


def test_pull_requests_run_the_tests_then_preview_both_stacks_with_a_comment() -> None:
    wf = _load("pull-request.yml")
    assert list(wf["on"]) == ["pull_request"]
    test, preview = wf["jobs"]["test"], wf["jobs"]["preview"]
    assert any("make test-fast" in s.get("run", "") for s in test["steps"])
    assert preview["needs"] == "test"
    assert preview["strategy"]["matrix"]["stack"] == ["staging", "production"]
    assert preview["permissions"]["id-token"] == "write" and preview["permissions"]["pull-requests"] == "write"
    assert preview["concurrency"]["group"] == "pulumi-${{ matrix.stack }}"
    pulumi = _uses(preview)["pulumi/actions"]
    assert pulumi["command"] == "preview" and pulumi["comment-on-pr"] is True
    assert pulumi["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert "role-to-assume" in _uses(preview)["aws-actions/configure-aws-credentials"]
    names = [s.get("uses", s.get("run", "")) for s in preview["steps"]]
    setup = next(i for i, n in enumerate(names) if "scripts/setup" in n)
    assert setup < next(i for i, n in enumerate(names) if n.startswith("pulumi/actions")), "the venv comes first"


def test_main_deploys_staging_then_production_behind_an_approval() -> None:
    wf = _load("deploy.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    staging, production = wf["jobs"]["staging"], wf["jobs"]["production"]
    assert production["needs"] == "staging" and production["environment"] == "production"
    for job, stack in ((staging, "staging"), (production, "production")):
        assert _uses(job)["pulumi/actions"] == {"command": "up", "stack-name": stack,
                                                "cloud-url": "${{ vars.PULUMI_BACKEND_URL }}"}
        assert job["concurrency"] == {"group": f"pulumi-{stack}", "cancel-in-progress": False}
        assert job["permissions"]["id-token"] == "write"


def test_previews_run_untrusted_code_with_a_read_only_role_in_their_own_environment() -> None:
    """A pull request's __main__.py never gets the deploy role or the deploy environments' secrets."""
    wf = _load("pull-request.yml")
    assert list(wf["on"]) == ["pull_request"]          # never pull_request_target
    assert wf["permissions"] == {}
    assert wf["jobs"]["test"]["permissions"] == {"contents": "read"}
    preview = wf["jobs"]["preview"]
    assert preview["environment"] == "preview"
    assert preview["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    aws = _uses(preview)["aws-actions/configure-aws-credentials"]
    assert aws["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    values = [str(v) for job in wf["jobs"].values() for step in job["steps"] for v in step.get("with", {}).values()]
    assert not [v for v in values if "AWS_ROLE_ARN" in v], "the deploy role never reaches a pull request"
    deploy = _load("deploy.yml")
    assert deploy["permissions"] == {}
    for stack in ("staging", "production"):
        job = deploy["jobs"][stack]
        assert job["environment"] == stack
        assert _uses(job)["aws-actions/configure-aws-credentials"]["role-to-assume"] == "${{ vars.AWS_ROLE_ARN }}"
