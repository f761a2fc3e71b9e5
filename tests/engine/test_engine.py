"""The real Pulumi engine (the CLI and plugins scripts/setup provides, the stand-in `aws` provider) on an AWS-only
program, driven by the Automation API: what the engine does is observed here, not modelled. No machines, no
pulumi-command.

- a new public key replaces the key pair; its new auto-name replaces the instance that uses it (so stackkit's
  instances ignore a key-name change: docs/lifecycle.md, "Rotating the SSH key pair");
- the protected volume cannot be removed by a program edit: the engine refuses (with the program's check off);
- the program reads its own stack's previous outputs (stackkit.components.previous) during `up` and `preview`, and
  refuses an edit that would lose a data holder before anything is registered: the checkpoint is unchanged, and a
  second attempt is refused too; without that check the engine creates the renamed instance and its new volume first
  and stops only at the protected delete;
- an EC2-refused description fails the preview with the rule named;
- a second `up` with no change does nothing;
- the secret (an RDS password) is in no checkpoint, no preview --diff (the PR comment), no output, in plaintext.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from pulumi import automation as auto

from stackkit.engine import workspace
from stackkit.engine.events import Recorder
from stackkit.local.stack import checkpoint_text, engine_env, plugin_home

pytestmark = pytest.mark.engine
PROGRAM = Path(__file__).resolve().parent / "programs" / "aws"
KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7+KkuhYVoSPYgAOJpDzXp+jx31ECEGIZiOIRyl4wAX a"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL7yN9m4m4b8eQkVQ0ZlP6zq3w1s4o8mG0uQ0kq9rY2x b"
SECRET = "S3cr3t\\pw&<db>!"       # a backslash and <>: JSON-escaped differently by Python and Go; RDS accepts it
STACK = "test"


class Failed(Exception):
    def __init__(self, recorder: Recorder, text: str) -> None:
        super().__init__(text)
        self.recorder, self.text = recorder, text


class Project:
    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "project"
        self.dir.mkdir()
        self.work = tmp / "engine"
        (self.dir / "Pulumi.yaml").write_text(
            f"name: enginetest\nmain: {PROGRAM}\nruntime:\n  name: python\n  options:\n"
            f"    virtualenv: {sys.prefix}\n")
        self.stack = workspace.select(self.dir, STACK, engine_env(self.work), pulumi_home=plugin_home(tmp / "cloud"))
        self.set("aws:region", "eu-west-1")
        self.set("t:public_key", KEY_A)
        self.set("t:db_password", SECRET, secret=True)

    def set(self, key: str, value: str, secret: bool = False) -> None:
        if secret:
            workspace.config_set_secret(self.stack, key, value)     # through stdin
        else:
            self.stack.set_config(key, auto.ConfigValue(value))

    def _run(self, verb: str, **kw: object) -> tuple[Recorder, str]:
        rec = Recorder()
        try:
            result = getattr(self.stack, verb)(on_event=rec, color="never", **kw)
        except auto.CommandError as exc:
            raise Failed(rec, str(exc)) from None
        return rec, result.stdout + result.stderr

    def up(self) -> Recorder:
        return self._run("up", show_secrets=False)[0]

    def preview(self, diff: bool = False) -> tuple[Recorder, str]:
        return self._run("preview", diff=diff or None)

    def checkpoint(self) -> str:
        return checkpoint_text(self.work, "enginetest", STACK)

    def outputs_text(self) -> str:
        """`pulumi stack output --json`, as a user sees it (secrets masked)."""
        return json.dumps({k: ("[secret]" if v.secret else v.value) for k, v in self.stack.outputs().items()})


def _ops(rec: Recorder) -> dict[str, str]:
    """resource name -> the engine's op, for what changes (a replacement as `replace`)."""
    out: dict[str, str] = {}
    for s in rec.steps:
        if s.changes and s.type != "pulumi:pulumi:Stack":
            out[s.name] = "replace" if s.op in ("replace", "create-replacement", "delete-replaced") else s.op
    return out


def _plaintext(text: str) -> list[str]:
    forms = {SECRET, json.dumps(SECRET)[1:-1], json.dumps(SECRET)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e"),
             "S3cr3t"}
    return [f for f in forms if f in text]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    p = Project(tmp_path_factory.mktemp("engine"))
    p.up()
    return p


def test_up_creates_and_a_second_up_changes_nothing(project: Project) -> None:
    preview, _ = project.preview()
    assert _ops(preview) == {}
    assert sum(s.op == "same" for s in preview.steps) >= 9
    state = json.loads(project.checkpoint())
    types = {r["type"] for r in state["checkpoint"]["latest"]["resources"]}
    assert {"aws:ec2/keyPair:KeyPair", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume"} <= types
    inst = next(r for r in state["checkpoint"]["latest"]["resources"] if r["type"] == "aws:ec2/instance:Instance")
    assert inst["id"].startswith("i-") and inst["outputs"]["privateIp"].startswith("198.51.100.")


def test_secret_in_no_checkpoint_output_or_diff(project: Project) -> None:
    assert _plaintext(project.checkpoint()) == []
    # the PR workflow's view: a diff that changes the secret itself
    project.set("t:db_password", SECRET + "2", secret=True)
    try:
        _, diff = project.preview(diff=True)
    finally:
        project.set("t:db_password", SECRET, secret=True)
    assert _plaintext(diff) == []
    assert "password" in diff and "[secret]" in diff
    assert _plaintext(project.outputs_text()) == []


def test_new_public_key_replaces_the_key_pair_and_the_instance(project: Project) -> None:
    project.set("t:public_key", KEY_B)
    try:
        preview, _ = project.preview()
    finally:
        project.set("t:public_key", KEY_A)
    ops = _ops(preview)
    assert ops["key"] == "replace"
    assert ops["web"] == "replace"            # keyName forces a new instance: the new key pair has a new name
    assert ops["data"] == "replace"           # the attachment (delete-before-replace) follows the instance
    assert ops["recover"] == "update"         # the auto-healing alarm follows the new instance id in place
    assert "vpc" not in ops and "db" not in ops


def test_an_alarm_setting_updates_only_the_alarm(project: Project) -> None:
    project.set("t:alarm_periods", "3")
    try:
        preview, _ = project.preview()
    finally:
        project.set("t:alarm_periods", "2")
    assert _ops(preview) == {"recover": "update"}


def test_a_protected_volume_cannot_be_removed_by_an_edit(project: Project) -> None:
    project.set("t:keep_volume", "false")
    project.set("t:check", "off")          # the engine's own protection, without the program's refusal
    try:
        with pytest.raises(Failed) as failed:
            project.up()
    finally:
        project.set("t:keep_volume", "true")
        project.set("t:check", "on")
    assert "protected" in failed.value.text
    state = json.loads(project.checkpoint())
    assert any(r["type"] == "aws:ebs/volume:Volume" for r in state["checkpoint"]["latest"]["resources"])


def test_an_ec2_refused_description_fails_the_preview_naming_the_rule(project: Project) -> None:
    project.set("t:sg_description", "the layer's instances")
    try:
        with pytest.raises(Failed) as failed:
            project.preview()
    finally:
        project.set("t:sg_description", "ssh")
    text = failed.value.text
    assert "ingress[0].description" in text and "a-z, A-Z, 0-9" in text


def _resources(p: Project) -> list[tuple[str, str]]:
    return sorted((r["urn"], r.get("id", "")) for r in json.loads(p.checkpoint())["checkpoint"]["latest"]["resources"])


def _failed_up(p: Project) -> tuple[str, list[tuple[str, str, str]]]:
    """An `up` that fails: (its message, [(op, type, name)] of every step the engine began)."""
    with pytest.raises(Failed) as failed:
        p.up()
    return failed.value.text, [(s.op, s.type, s.name) for s in failed.value.recorder.steps]


@pytest.fixture()
def fresh(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.up()
    return p


def test_an_edit_losing_data_is_refused_before_anything_runs(fresh: Project) -> None:
    previous = {k: v.value for k, v in fresh.stack.outputs().items()}
    assert previous["data_holders"] == {"instances.web.volumes.data": {"kind": "volume", "instance": "web"}}
    before = _resources(fresh)
    fresh.set("t:instance", "web2")           # a rename: web's data volume would go, web2 gets a blank one
    refusal = "refused before anything runs: instances.web.volumes.data would be lost"
    with pytest.raises(Failed) as preview:
        fresh.preview()
    assert refusal in preview.value.text
    for _attempt in range(2):                 # a refused up leaves the outputs it read: the next one is refused too
        text, began = _failed_up(fresh)
        assert refusal in text
        assert [step for step in began if step[0] != "same"] == []
        assert _resources(fresh) == before
    fresh.set("t:instance", "web")
    assert _ops(fresh.preview()[0]) == {}


def test_without_the_check_the_engine_creates_first_and_stops_at_the_protected_delete(fresh: Project) -> None:
    """Why the check reads the previous outputs: the engine's own protection comes last."""
    fresh.set("t:instance", "web2")
    fresh.set("t:check", "off")
    text, began = _failed_up(fresh)
    assert "protected" in text
    instance, volume = "aws:ec2/instance:Instance", "aws:ebs/volume:Volume"
    assert ("create", instance, "web2") in began and ("create", volume, "web2-data") in began
    # observed: the old instance is deleted and its volume detached before the protected volume stops the update
    assert ("delete", instance, "web") in began and ("delete", volume, "data") in began
    volumes = [r for r in json.loads(fresh.checkpoint())["checkpoint"]["latest"]["resources"] if r["type"] == volume]
    assert sorted(r["urn"].rsplit("::", 1)[-1] for r in volumes) == ["data", "web2-data"]
