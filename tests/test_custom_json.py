"""OpsWorks' custom JSON reaches node.json: the stack's, a layer's and an instance's attributes under namespaces that
none of the stack's layers declares are node.json's top-level keys (instance over layer over stack, as OpsWorks
merged them), and a change of them reaches only the commands that hand node.json over."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from stackkit.config.stackfile import StackFile
from stackkit.plan.evaluate import evaluate
from tests.conftest import bundles

NODE = re.compile(r"sk_put /etc/stackkit/node.json 0600 <<'(SK_EOF_\w+)'\n(.*?)\n\1\n", re.S)


def nodes(sf: StackFile, overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for name, script in bundles(evaluate(sf, overrides=overrides)).items():
        m = NODE.search(script)
        if m:
            out[name] = json.loads(m.group(2))
    return out


def test_custom_json_is_merged_into_node_json(stack_files: dict[str, StackFile]) -> None:
    sf = stack_files["staging"]
    stack = copy.deepcopy(sf.config["stackkit:stack"])
    stack["attributes"] = {**stack.get("attributes", {}), "notes": {"greeting": "hello", "lang": "en"}}
    instances = copy.deepcopy(sf.config["stackkit:instances"])
    first = sorted(instances)[0]
    instances[first]["attributes"] = {"notes": {"greeting": "hi"}}
    found = nodes(sf, {"stackkit:stack": stack, "stackkit:instances": instances})
    assert found, "no command wrote node.json"
    for command, node in found.items():
        want = "hi" if command.startswith(f"{first}-") else "hello"
        assert node["notes"] == {"greeting": want, "lang": "en"}, command
        assert "plone" not in node, f"{command}: a stackkit layer's attributes are its templates', not node.json's"
        assert {"opsworks", "deploy", "haproxy"} <= set(node), command


def test_without_custom_json_node_json_has_only_its_own_keys(stack_files: dict[str, StackFile]) -> None:
    found = nodes(stack_files["staging"], {})
    assert found
    assert {k for node in found.values() for k in node} == {"opsworks", "deploy", "haproxy"}
