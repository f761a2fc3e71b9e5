"""SSH host keys: the derivation (stackkit.cluster.hostkeys), the user data that installs the key, and the pin on every
command's connection in the offline plan."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from stackkit.cluster.hostkeys import HostKey, cloud_config, derive, from_cloud_config, hostname_of
from stackkit.config.stackfile import StackFile
from stackkit.plan.evaluate import Plan, Resource, evaluate

SECRET = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key, any secret text\n-----END OPENSSH PRIVATE KEY-----\n"
INSTANCE = "aws:ec2/instance:Instance"
COMMAND = "command:remote:Command"


def test_the_derivation_is_deterministic_and_ignores_surrounding_whitespace() -> None:
    a = derive(SECRET, "production", "app1")
    assert derive(SECRET, "production", "app1") == a
    assert derive("  " + SECRET.strip() + "\n\n", "production", "app1") == a
    assert a.public.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI") and len(a.public.split()) == 2


@pytest.mark.parametrize("other", [(SECRET + "x", "production", "app1"), (SECRET, "staging", "app1"),
                                   (SECRET, "production", "app2"), (SECRET, "production|app", "1")],
                         ids=["secret", "stack", "instance", "separator"])
def test_each_input_changes_the_key(other: tuple[str, str, str]) -> None:
    a, b = derive(SECRET, "production", "app1"), derive(*other)
    assert a.public != b.public and a.private != b.private


def test_the_private_half_is_never_in_its_repr() -> None:
    key = derive(SECRET, "production", "app1")
    assert "PRIVATE" not in repr(key) and key.public in repr(key)


def test_the_private_key_is_an_openssh_key_of_the_public_one() -> None:
    key = derive(SECRET, "production", "app1")
    loaded = serialization.load_ssh_private_key(key.private.encode(), password=None)
    assert loaded.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                            serialization.PublicFormat.OpenSSH).decode() == key.public


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs OpenSSH's ssh-keygen")
def test_openssh_reads_the_private_key(tmp_path: Path) -> None:
    key = derive(SECRET, "production", "app1")
    path = tmp_path / "ssh_host_ed25519_key"
    path.write_text(key.private)
    path.chmod(0o600)
    public = subprocess.run(["ssh-keygen", "-y", "-f", str(path)], capture_output=True, text=True, check=True).stdout
    assert public.split()[:2] == key.public.split()
    listed = subprocess.run(["ssh-keygen", "-l", "-f", str(path)], capture_output=True, text=True, check=True).stdout
    assert listed.startswith("256 SHA256:") and listed.rstrip().endswith("production/app1 (ED25519)")


def test_the_cloud_config_installs_only_the_derived_key() -> None:
    key = derive(SECRET, "production", "app1")
    text = cloud_config("app1", key)
    assert text.startswith("#cloud-config\n")
    yaml = pytest.importorskip("yaml")   # PyYAML: what cloud-init parses user data with
    doc = yaml.safe_load(text)
    assert doc == {"hostname": "app1", "preserve_hostname": False, "ssh_deletekeys": True, "ssh_genkeytypes": [],
                   "ssh_keys": {"ed25519_private": key.private, "ed25519_public": key.public}}
    assert from_cloud_config(text) == key
    assert hostname_of(text) == "app1"      # what the local cloud names the machine, as cloud-init does


@pytest.mark.parametrize(("text", "hostname"), [(None, None), ("", None), ("#!/bin/sh\nhostname app1\n", None),
                                                ("#cloud-config\nssh_deletekeys: true\n", None),
                                                ("#cloud-config\nhostname: web-2\n", "web-2")])
def test_the_hostname_of_user_data(text: str | None, hostname: str | None) -> None:
    assert hostname_of(text) == hostname


@pytest.mark.parametrize("text", [None, "", "#!/bin/sh\necho hi\n", "#cloud-config\nhostname: app1\n",
                                  "#cloud-config\nssh_keys: {rsa_private: x, rsa_public: y}\n"])
def test_user_data_without_an_ed25519_key_installs_none(text: str | None) -> None:
    assert from_cloud_config(text) is None


# --- the plan -----------------------------------------------------------------------------------------------------

def _changed(sf: StackFile, change: dict) -> Plan:
    return evaluate(sf.with_change(change))


def _instance_of(plan: Plan, r: Resource) -> str:
    by = plan.by_urn()
    cur = by[r.parent]
    while cur.type != "stackkit:index:Instance":
        cur = by[cur.parent]
    return cur.name


def _installed(plan: Plan) -> dict[str, HostKey]:
    """instance name -> the host key its user data installs."""
    out = {}
    for r in plan.of_type(INSTANCE):
        key = from_cloud_config(r.secret_inputs["userData"])
        assert key is not None, f"{r.name}: its user data installs no host key"
        out[r.name] = key
    return out


@pytest.mark.parametrize("stack", ["production", "staging", "relstorage"])
def test_every_connection_pins_the_key_its_instance_installs(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    installed = _installed(plan)
    assert installed and len({k.public for k in installed.values()}) == len(installed), "one key per instance"
    commands = plan.of_type(COMMAND)
    assert commands
    for r in commands:
        connection = r.secret_inputs["connection"]
        assert connection["hostKey"] == installed[_instance_of(plan, r)].public, r.name
        if connection.get("proxy"):   # through the bastion: that hop is pinned to the bastion's key
            bastion = connection["proxy"]["hostKey"]
            assert bastion in {k.public for k in installed.values()} and bastion != connection["hostKey"], r.name


@pytest.mark.parametrize("stack", ["production", "staging", "relstorage"])
def test_user_data_is_secret_and_no_private_key_is_in_the_plan(plans: dict[str, Plan], stack: str) -> None:
    plan = plans[stack]
    for r in plan.of_type(INSTANCE):
        assert r.inputs["userData"] == "[secret]"
        assert "userData" in r.options["ignoreChanges"]
    text = json.dumps(plan.to_json())
    assert "PRIVATE KEY" not in text
    for key in _installed(plan).values():
        body = "".join(key.private.splitlines()[1:-1])
        assert body[:40] not in text and key.public in text   # the public half is shown (the Stash's input)


def test_setup_nonce_and_ssh_public_key_leave_the_host_keys_alone(stack_files: dict, plans: dict[str, Plan]) -> None:
    """Neither changes the host key an instance's user data installs: the key must not move (a moved pin fails every
    connection). What the engine then does with a new key pair (no instance replaced, the pins kept) is proven on
    machines: tests/e2e/test_connections.py."""
    prod, base = stack_files["production"], plans["production"]
    for change in ({"instances.app3.setup_nonce": 1}, {"stack.ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"
                                                                              "DtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"}):
        new = _changed(prod, change)
        assert _installed(new) == _installed(base)


def test_an_instance_can_pin_its_own_key_or_none(stack_files: dict) -> None:
    legacy = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGy+YedXliXkVIDhUAA6XSCgkgEvBE/xW1cv7O7ICSzD"
    plan = _changed(stack_files["production"], {"instances.app1.host_key": legacy,
                                                "instances.app2.host_key": "unpinned"})
    pins = {_instance_of(plan, r): r.secret_inputs["connection"].get("hostKey") for r in plan.of_type(COMMAND)}
    assert pins["app1"] == legacy
    assert pins["app2"] is None
    assert pins["app3"] == _installed(plan)["app3"].public
    stashes = {r.name for r in plan.of_type("pulumi:index:Stash")}
    assert "app3-host-key" in stashes and not {"app1-host-key", "app2-host-key"} & stashes
