"""`python -m stackkit schema`: a valid JSON Schema, generated from the models, that accepts the shipped stack files
and refuses what the models refuse."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema
import pytest

from stackkit.config.stackfile import StackFile
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def schema() -> dict:
    out = subprocess.run([sys.executable, "-m", "stackkit", "schema"], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return json.loads(out)


def test_the_schema_is_valid_and_keyed_like_the_stack_file(schema: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == {"aws:region", "stackkit:stack", "stackkit:layers", "stackkit:instances",
                                         "stackkit:apps", "stackkit:resources", "stackkit:users"}
    assert set(schema["required"]) == {"aws:region", "stackkit:stack", "stackkit:layers", "stackkit:instances"}


@pytest.mark.parametrize("stack", ["production", "staging", "relstorage"])
def test_the_shipped_stacks_validate(schema: dict, stack_files: dict[str, StackFile], stack: str) -> None:
    jsonschema.Draft202012Validator(schema).validate(stack_files[stack].config)


def test_the_schema_refuses_unknown_keys(schema: dict, stack_files: dict[str, StackFile]) -> None:
    config = json.loads(json.dumps(stack_files["staging"].config))
    config["stackkit:instances"]["stage1"]["sise"] = "large"
    with pytest.raises(jsonschema.ValidationError, match="sise"):
        jsonschema.Draft202012Validator(schema).validate(config)


def test_the_schema_refuses_a_users_unknown_key(schema: dict, stack_files: dict[str, StackFile]) -> None:
    config = json.loads(json.dumps(stack_files["staging"].config))
    config["stackkit:users"] = {"alice": {"ssh_public_key": "ssh-ed25519 AAAA", "shell": "/bin/zsh"}}
    with pytest.raises(jsonschema.ValidationError, match="shell"):
        jsonschema.Draft202012Validator(schema).validate(config)
