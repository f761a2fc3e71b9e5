"""The invalid-config corpus (tests/config_errors/*.yaml): each case fails with exactly the listed problems,
every one naming its path and the fix, before anything is registered."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from stackkit.config.load import load
from stackkit.config.patch import apply
from stackkit.config.stackfile import StackFile
from stackkit.errors import ConfigError
from tests.conftest import ROOT, STACKS

# every file of the folder: cases.yaml (the config schema and cross-checks), attributes.yaml (typed layer attributes)
CASES = [case for f in sorted((Path(__file__).parent / "config_errors").glob("*.yaml"))
         for case in YAML(typ="safe").load(f.read_text())]
def patched(case: dict[str, Any], files: dict[str, StackFile]) -> tuple[dict[str, Any], set[str]]:
    """The case's base stack file with its `set` and `delete` applied (stackkit.config.patch, the one change
    language of the scenario tables too), and its secret keys."""
    sf = files[case["base"]]
    change = {**(case.get("set") or {}), **{f"-{path}": None for path in case.get("delete") or []}}
    secret = (set(sf.secret_keys) | set(case.get("secret") or [])) - set(case.get("plain") or [])
    return apply(sf.config, change), secret


def secure_paths(case: dict[str, Any], files: dict[str, StackFile]) -> set[str] | None:
    """With `secure: [exact paths]`, the exact secure paths: the base file's and these (None: top-level keys only)."""
    if "secure" not in case:
        return None
    return set(files[case["base"]].secure_paths) | set(case["secure"])


@pytest.fixture(scope="module")
def files() -> dict[str, StackFile]:
    from stackkit.config.stackfile import read_stack_file
    return {name: read_stack_file(path) for name, path in STACKS.items()}


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({c["name"] for c in CASES}) == len(CASES)


def layers_dir(case: dict[str, Any], tmp: Path) -> Path:
    """The real layers, plus the case's `extra_layers` (name -> layer.yaml content) when it has some."""
    if not case.get("extra_layers"):
        return ROOT / "layers"
    import shutil
    shutil.copytree(ROOT / "layers", tmp / "layers")
    for name, spec in case["extra_layers"].items():
        (tmp / "layers" / name).mkdir()
        YAML().dump(spec, tmp / "layers" / name / "layer.yaml")
    return tmp / "layers"


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_invalid_config_fails_with_exact_problems(case: dict[str, Any], files: dict[str, StackFile], tmp_path: Path) -> None:
    config, secret = patched(case, files)
    with pytest.raises(ConfigError) as err:
        load(config, secret, layers_dir=layers_dir(case, tmp_path), secure_paths=secure_paths(case, files))
    assert err.value.problems == case["expect"]
    for line in err.value.problems:
        assert re.match(r"^[\w:.\[\]/-]+: ", line), f"every problem starts with its path: {line}"


def test_problems_are_sorted_and_deduplicated() -> None:
    err = ConfigError(["b: two", "a: one", "b: two"])
    assert err.problems == ["a: one", "b: two"]


def test_the_shipped_stacks_are_valid(files: dict[str, StackFile]) -> None:
    for name, sf in files.items():
        loaded = load(sf.config, sf.secret_keys)
        assert loaded.config.instances, name


def test_plan_prints_problems_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "Pulumi.bad.yaml"
    text = (ROOT / "Pulumi.production.yaml").read_text().replace("web2: {layers: [frontend]", "web3: {layers: [frontnd]")
    bad.write_text(text)
    result = subprocess.run([sys.executable, "-m", "stackkit", "plan", "--config", str(bad)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert ("  instances.web3.layers[0]: unknown layer 'frontnd' (known: frontend, maintenance, plone, zeoserver)"
            in result.stderr.splitlines())


def test_a_bad_config_registers_nothing() -> None:
    """Under the mock runtime, the program itself refuses a bad config before its first resource."""
    import pulumi

    from stackkit.plan.mocks import RecordingMonitor, StackkitMocks
    from stackkit.plan.runtime import run_with_mocks
    from stackkit.program import run

    mocks = StackkitMocks("eu-west-1")
    monitor = RecordingMonitor(mocks)
    config = {"aws:region": "eu-west-1", "stackkit:stack": '{"name": "x"}', "stackkit:layers": '{"frontnd": {}}',
              "stackkit:instances": '{"web1": {"layers": ["frontnd"]}}'}
    with pytest.raises(pulumi.RunError) as err:
        run_with_mocks(run, mocks, monitor, project="stackkit", stack="bad", config=config, secret_keys=[])
    assert monitor.registrations == []
    assert "  stack.ssh_public_key: required; add it" in str(err.value).splitlines()
