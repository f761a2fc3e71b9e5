"""The whole bad-input corpus: every case of tests/config_errors/cases.yaml and every unreadable stack file of
tests/bad_input/files.yaml is refused by the project's own errors (ConfigError, or StackkitError at the CLI): no other
exception type escapes and no traceback is printed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from stackkit.cli import main
from stackkit.config.load import load
from stackkit.config.stackfile import StackFile
from stackkit.errors import ConfigError
from tests.test_config_errors import CASES, layers_dir, patched, secure_paths

FILES = YAML(typ="safe").load((Path(__file__).parent / "bad_input/files.yaml").read_text())


def _write(case: dict[str, Any], tmp: Path) -> Path:
    path = tmp / "Pulumi.bad.yaml"
    if case.get("folder"):
        path.mkdir()
    elif case.get("missing"):
        pass
    elif "latin1" in case:
        path.write_bytes(case["latin1"].encode("latin-1"))
    elif "hex" in case:
        path.write_bytes(bytes.fromhex(case["hex"]))
    elif "repeat" in case:
        path.write_text(case["repeat"]["text"] + case["repeat"]["open"] * case["repeat"]["times"] + "\n")
    else:
        path.write_text(case["text"])
    return path


@pytest.mark.parametrize("case", FILES, ids=[c["name"] for c in FILES])
def test_an_unreadable_stack_file_is_one_problem_without_traceback(case: dict[str, Any], tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(case, tmp_path)
    started = time.monotonic()
    assert main(["plan", "--config", str(path), "--json"]) == 1
    assert time.monotonic() - started < 3, "refused quickly (a billion-laughs file too)"
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines()[1].startswith(f"  {path}: ")     # one problem, the file's path first
    assert len(err.splitlines()) == 2
    assert case["expect"] in err


def test_the_whole_corpus_raises_only_config_errors(stack_files: dict[str, StackFile], tmp_path: Path) -> None:
    outcomes: dict[str, str] = {}
    for case in CASES:
        config, secret = patched(case, stack_files)
        try:
            load(config, secret, layers_dir=layers_dir(case, tmp_path / case["name"]),
                 secure_paths=secure_paths(case, stack_files))
            outcomes[case["name"]] = "accepted"
        except ConfigError:
            outcomes[case["name"]] = "ConfigError"
        except Exception as exc:  # noqa: BLE001 -- the point: any other type is a crash to report
            outcomes[case["name"]] = f"{type(exc).__name__}: {exc}"
    assert len(outcomes) == len(CASES) >= 100
    assert {n: o for n, o in outcomes.items() if o != "ConfigError"} == {}


def test_az_count_up_to_the_regions_azs_plans(stack_files: dict[str, StackFile]) -> None:
    """us-east-1 has 6 AZs (stackkit/config/aws_rules.py): the mocks answer with as many, and every AZ gets its subnets."""
    from stackkit.plan.evaluate import evaluate

    network = {**stack_files["production"].config["stackkit:stack"]["network"], "az_count": 6}
    stack = {**stack_files["production"].config["stackkit:stack"], "network": network}
    plan = evaluate(stack_files["production"], overrides={"aws:region": "us-east-1", "stackkit:stack": stack})
    zones = sorted({r.inputs["availabilityZone"] for r in plan.of_type("aws:ec2/subnet:Subnet")})
    assert zones == [f"us-east-1{c}" for c in "abcdef"]
