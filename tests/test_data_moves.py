"""No edit may move or lose data (stackkit.cluster.data): the cases in tests/data_moves/cases.yaml on the pure function,
the same refusal from the program under mocks (the previous deployment's outputs fed back) and from `plan --against`,
before anything is registered. The real engine's side is tests/engine/test_engine.py."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from stackkit.aws.replacement import REPLACES
from stackkit.cluster.data import HOLDERS_OUTPUT, PROVIDER_TYPE, REPLACED_BY, data_moves, holders, stale_retirements
from stackkit.config.load import Loaded, load
from stackkit.config.patch import apply
from stackkit.config.stackfile import StackFile
from stackkit.errors import DataMoveError
from stackkit.plan.evaluate import evaluate
from tests.conftest import ROOT

CASES: list[dict[str, Any]] = YAML(typ="safe").load((Path(__file__).parent / "data_moves/cases.yaml").read_text())
REFUSED = [c for c in CASES if c["expect"] and c.get("previous") != "none"]


def _files(stack_files: dict[str, StackFile], case: dict[str, Any]) -> tuple[StackFile, StackFile]:
    sf = stack_files[case["base"]]
    before = apply(sf.config, case.get("before") or {})
    after = apply(before, case["change"])
    return (type(sf)(sf.path, before, sf.secret_keys, sf.placeholders),
            type(sf)(sf.path, after, sf.secret_keys, sf.placeholders))


def _loaded(sf: StackFile) -> Loaded:
    return load(copy.deepcopy(sf.config), sf.secret_keys, source=str(sf.path))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_data_moves(stack_files: dict[str, StackFile], case: dict[str, Any]) -> None:
    before, after = _files(stack_files, case)
    previous = None if case.get("previous") == "none" else holders(_loaded(before))
    assert data_moves(previous, _loaded(after)) == case["expect"]


@pytest.mark.parametrize("case", REFUSED[:4] + REFUSED[-2:], ids=[c["name"] for c in REFUSED[:4] + REFUSED[-2:]])
def test_the_program_refuses_before_registering_anything(stack_files: dict[str, StackFile],
                                                         case: dict[str, Any]) -> None:
    """The previous plan's outputs, as the engine's checkpoint holds them (numbers come back as doubles), fed to the
    program: it raises the same problems, and a plan of the refused edit has no resource at all."""
    before, after = _files(stack_files, case)
    previous = evaluate(before).outputs
    assert previous[HOLDERS_OUTPUT] == holders(_loaded(before))
    with pytest.raises(DataMoveError) as exc:
        evaluate(after, previous_outputs=previous)
    assert exc.value.problems == case["expect"]


def test_a_first_deployment_and_a_retired_holder_pass(stack_files: dict[str, StackFile]) -> None:
    case = next(c for c in CASES if c["name"] == "rename-db1-to-db2-retired")
    before, after = _files(stack_files, case)
    plan = evaluate(after, previous_outputs=evaluate(before).outputs)
    assert {r.name for r in plan.of_type("aws:ebs/volume:Volume")} == {"db2-data", "db2-backups"}
    assert stale_retirements(holders(_loaded(before)), _loaded(after)) == []
    assert stale_retirements({}, _loaded(after)) == [
        f"stack.retire: instances.db1.volumes.{v} is not held by the last deployment (already gone); remove the entry"
        for v in ("data", "backups")]


@pytest.mark.engine
def test_plan_against_prints_the_refusal_instead_of_steps(tmp_path: Path) -> None:
    case = next(c for c in CASES if c["name"] == "rename-db1-to-db2")
    renamed = tmp_path / "Pulumi.production.yaml"
    db1 = "    db1: {layers: [zeoserver, maintenance], type: m6i.large, az: 0}\n"
    text = (ROOT / "Pulumi.production.yaml").read_text()
    assert db1 in text
    renamed.write_text(text.replace(db1, db1.replace("db1", "db2")))
    out = subprocess.run([sys.executable, "-m", "stackkit", "plan", "--config", str(renamed), "--against",
                          str(ROOT / "Pulumi.production.yaml")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1, out.stderr
    assert out.stdout.splitlines() == ["lifecycle diff of stack production: refused before anything runs, nothing "
                                       "would change", *(f"REFUSED {p}" for p in case["expect"])]


def test_the_fields_that_replace_a_holder_are_the_stand_ins_replacement_table() -> None:
    for kind, fields in REPLACED_BY.items():
        assert set(fields.values()) <= set(REPLACES[PROVIDER_TYPE[kind]]), kind


def test_auto_elastic_ips_are_protected_and_kept_in_the_account(plans: dict) -> None:
    eips = {r.name: r.options for r in plans["production"].of_type("aws:ec2/eip:Eip") if r.name.endswith("-eip")}
    assert set(eips) == {"web1-eip", "web2-eip"}
    assert all(o["protect"] and o["retainOnDelete"] for o in eips.values())
