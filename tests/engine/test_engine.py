"""The real Pulumi engine (the CLI scripts/setup provides, our language host, the stand-in `aws` provider) on an
AWS-only program: what the engine does is observed here, not modelled. No machines, no pulumi-command.

- a new public key replaces the key pair; its new auto-name replaces the instance that uses it (the model agrees);
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
import subprocess
from pathlib import Path

import pytest

from stackkit.engine.toolchain import ROOT, Engine, local_engine

pytestmark = pytest.mark.engine
PROGRAM = Path(__file__).resolve().parent / "programs" / "aws"
KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN7+KkuhYVoSPYgAOJpDzXp+jx31ECEGIZiOIRyl4wAX a"
KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL7yN9m4m4b8eQkVQ0ZlP6zq3w1s4o8mG0uQ0kq9rY2x b"
SECRET = "S3cr3t\\pw&<db>!"       # a backslash and <>: JSON-escaped differently by Python and Go; RDS accepts it
STACK = "test"


class Project:
    def __init__(self, tmp: Path) -> None:
        self.dir = tmp / "project"
        self.dir.mkdir()
        (self.dir / "Pulumi.yaml").write_text(
            f"name: enginetest\nmain: {PROGRAM}\nruntime:\n  name: python\n  options:\n"
            f"    virtualenv: {ROOT / '.venv'}\n")
        self.engine: Engine = local_engine(tmp / "engine", passphrase="engine-test-passphrase")
        self.pulumi("stack", "init", STACK, "--secrets-provider", "passphrase")
        self.set("aws:region", "eu-west-1")
        self.set("t:public_key", KEY_A)
        self.set("t:db_password", SECRET, secret=True)

    def pulumi(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.engine.pulumi(*args, cwd=self.dir, check=check, timeout=300)

    def set(self, key: str, value: str, secret: bool = False) -> None:
        out = subprocess.run(["pulumi", "config", "set", *(["--secret"] if secret else []), key, "--non-interactive"],
                             input=value, cwd=self.dir, env=self.engine.env(), capture_output=True, text=True)
        assert out.returncode == 0, out.stderr

    def up(self) -> subprocess.CompletedProcess[str]:
        return self.pulumi("up", "--yes", "--skip-preview", "--stack", STACK)

    def preview(self, check: bool = True) -> tuple[dict, subprocess.CompletedProcess[str]]:
        out = self.pulumi("preview", "--json", "--stack", STACK, check=check)
        return json.loads(out.stdout or "{}"), out

    def checkpoint(self) -> str:
        return self.pulumi("stack", "export", "--stack", STACK).stdout


def _ops(preview: dict) -> dict[str, str]:
    return {st["urn"].rsplit("::", 1)[-1]: st["op"] for st in preview.get("steps", []) if st["op"] != "same"}


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
    assert preview["changeSummary"].get("same", 0) >= 9
    state = json.loads(project.checkpoint())
    types = {r["type"] for r in state["deployment"]["resources"]}
    assert {"aws:ec2/keyPair:KeyPair", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume"} <= types
    inst = next(r for r in state["deployment"]["resources"] if r["type"] == "aws:ec2/instance:Instance")
    assert inst["id"].startswith("i-") and inst["outputs"]["privateIp"].startswith("198.51.100.")


def test_secret_in_no_checkpoint_output_or_diff(project: Project) -> None:
    assert _plaintext(project.checkpoint()) == []
    # the PR workflow's view: a diff that changes the secret itself
    project.set("t:db_password", SECRET + "2", secret=True)
    try:
        diff = project.pulumi("preview", "--diff", "--stack", STACK)
    finally:
        project.set("t:db_password", SECRET, secret=True)
    assert _plaintext(diff.stdout + diff.stderr) == []
    assert "password" in diff.stdout and "[secret]" in diff.stdout
    outputs = project.pulumi("stack", "output", "--json", "--stack", STACK).stdout
    assert _plaintext(outputs) == []


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


def test_the_model_predicts_the_same_replacements() -> None:
    """stackkit.lifecycle.rules on the mock plans of the same change: the same resources replaced."""
    from stackkit.lifecycle.rules import steps
    from stackkit.plan.evaluate import evaluate

    sf = ROOT / "Pulumi.staging.yaml"
    base = evaluate(sf)
    from stackkit.config.patch import apply
    from stackkit.config.stackfile import read_stack_file

    f = read_stack_file(sf)
    changed = type(f)(f.path, apply(f.config, {"stack.ssh_public_key": KEY_B}), f.secret_keys, f.placeholders)
    todo = steps(base, evaluate(changed))
    replaced = {(s.type, s.name) for s in todo if s.op == "replace" and s.phase == "create"}
    assert ("aws:ec2/keyPair:KeyPair", "plone-staging-key") in replaced
    assert ("aws:ec2/instance:Instance", "stage1") in replaced


def test_a_protected_volume_cannot_be_removed_by_an_edit(project: Project) -> None:
    project.set("t:keep_volume", "false")
    project.set("t:check", "off")          # the engine's own protection, without the program's refusal
    try:
        out = project.pulumi("up", "--yes", "--skip-preview", "--stack", STACK, check=False)
    finally:
        project.set("t:keep_volume", "true")
        project.set("t:check", "on")
    assert out.returncode != 0
    assert "protected" in out.stdout + out.stderr
    state = json.loads(project.checkpoint())
    assert any(r["type"] == "aws:ebs/volume:Volume" for r in state["deployment"]["resources"])


def test_an_ec2_refused_description_fails_the_preview_naming_the_rule(project: Project) -> None:
    project.set("t:sg_description", "the layer's instances")
    try:
        _, out = project.preview(check=False)
    finally:
        project.set("t:sg_description", "ssh")
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "ingress[0].description" in text and "a-z, A-Z, 0-9" in text


def _resources(p: Project) -> list[tuple[str, str]]:
    return sorted((r["urn"], r.get("id", "")) for r in json.loads(p.checkpoint())["deployment"]["resources"])


def _steps(p: Project, *args: str) -> tuple[subprocess.CompletedProcess[str], list[tuple[str, str, str]]]:
    """Run `pulumi <args>` with an event log: (the run, [(op, type, name)] of every step the engine began)."""
    log = p.dir / "events.jsonl"
    log.unlink(missing_ok=True)
    out = p.pulumi(*args, "--stack", STACK, "--event-log", str(log), check=False)
    events = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return out, [(e["resourcePreEvent"]["metadata"]["op"], e["resourcePreEvent"]["metadata"]["type"],
                  e["resourcePreEvent"]["metadata"]["urn"].rsplit("::", 1)[-1])
                 for e in events if "resourcePreEvent" in e]


@pytest.fixture()
def fresh(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.up()
    return p


def test_an_edit_losing_data_is_refused_before_anything_runs(fresh: Project) -> None:
    previous = json.loads(fresh.pulumi("stack", "output", "--json", "--stack", STACK).stdout)
    assert previous["data_holders"] == {"instances.web.volumes.data": {"kind": "volume", "instance": "web"}}
    before = _resources(fresh)
    fresh.set("t:instance", "web2")           # a rename: web's data volume would go, web2 gets a blank one
    refusal = "refused before anything runs: instances.web.volumes.data would be lost"
    _, preview = fresh.preview(check=False)
    assert preview.returncode != 0 and refusal in preview.stdout + preview.stderr
    for _attempt in range(2):                 # a refused up leaves the outputs it read: the next one is refused too
        out, began = _steps(fresh, "up", "--yes", "--skip-preview")
        assert out.returncode != 0 and refusal in out.stdout + out.stderr
        assert [step for step in began if step[0] != "same"] == []
        assert _resources(fresh) == before
    fresh.set("t:instance", "web")
    assert _ops(fresh.preview()[0]) == {}


def test_without_the_check_the_engine_creates_first_and_stops_at_the_protected_delete(fresh: Project) -> None:
    """Why the check reads the previous outputs: the engine's own protection comes last."""
    fresh.set("t:instance", "web2")
    fresh.set("t:check", "off")
    out, began = _steps(fresh, "up", "--yes", "--skip-preview")
    assert out.returncode != 0 and "protected" in out.stdout + out.stderr
    instance, volume = "aws:ec2/instance:Instance", "aws:ebs/volume:Volume"
    assert ("create", instance, "web2") in began and ("create", volume, "web2-data") in began
    # observed: the old instance is deleted and its volume detached before the protected volume stops the update
    assert ("delete", instance, "web") in began and ("delete", volume, "data") in began
    volumes = [r for r in json.loads(fresh.checkpoint())["deployment"]["resources"] if r["type"] == volume]
    assert sorted(r["urn"].rsplit("::", 1)[-1] for r in volumes) == ["data", "web2-data"]
