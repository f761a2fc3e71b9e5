"""Per-user SSH and sudo (stackkit:users) and the deploy user's keys: no other view holds a user or a key, and the
users bundle carries keys and names as data. Which users steps a change runs is the engine's
(tests/engine/test_lifecycle_engine.py, USERS_SCENARIOS)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.lifecycle import bundle
from stackkit.lifecycle.scenarios import ALICE, BOB
from stackkit.lifecycle.script import RUN_JOB, STATE_DIR, UPDATE_JOB, expected
from stackkit.lifecycle.users import users_parts
from stackkit.plan.evaluate import Plan, evaluate
from tests.conftest import bundles


def _with(sf: StackFile, change: dict) -> StackFile:
    return sf.with_change(change)


@pytest.fixture(scope="module")
def prod(stack_files: dict[str, StackFile]) -> StackFile:
    return stack_files["production"]


def test_users_are_in_no_other_command(prod: StackFile, plans: dict[str, Plan]) -> None:
    with_users = evaluate(_with(prod, {"users.alice": ALICE, "users.bob": BOB}))
    base = {n: b for n, b in bundles(plans["production"]).items()}
    for name, text in bundles(with_users).items():
        if name.endswith("-users"):
            continue
        assert text == base[name], f"{name}: its bundle changed with the users"
    web1 = bundles(with_users)["web1-users"]
    app1 = bundles(with_users)["app1-users"]
    assert ALICE["ssh_public_key"] in web1 and BOB["ssh_public_key"] in web1
    assert "alice" not in app1 and BOB["ssh_public_key"] in app1
    assert "  sk_users alice 1 bob 0\n" in web1 and "  sk_users bob 0\n" in app1
    cmd = with_users.named("web1-users", "command:remote:Command")
    assert cmd.secret_inputs["create"] == RUN_JOB.format(event="users")
    assert cmd.secret_inputs["update"] == UPDATE_JOB.format(event="users")
    assert cmd.secret_inputs["delete"] == RUN_JOB.format(event="lock_users")
    by = with_users.by_urn()
    waits = {by[u].name for u in cmd.options["dependsOn"]}
    assert {"web1-setup", "web1-library"} <= waits
    assert not {w for w in waits if "deploy" in w or "configure" in w or "ready" in w}
    assert cmd.options["deletedWith"] == with_users.named("web1", "aws:ec2/instance:Instance").urn


def test_the_users_step_carries_its_view_not_its_script(prod: StackFile) -> None:
    """As every other command: the users and their keys as data, and the digest of the script the plan rendered (but
    for the runtime's shell library: the prelude and users.sh travel once, in the library, with the runtime)."""
    plan = evaluate(_with(prod, {"users.alice": ALICE, "users.bob": BOB}))
    cmd = plan.named("web1-users", "command:remote:Command")
    text = cmd.secret_inputs["stdin"]
    p = bundle.payload(text)
    assert set(p) == {"expect", "users"} and p["users"]["instance"] == "web1"
    assert sorted(p["users"]["view"]["users"]) == ["alice", "bob"]
    assert p["users"]["view"]["users"]["alice"]["ssh_public_key"] == ALICE["ssh_public_key"]
    assert "sk_users" not in text and "sk_log" not in text and len(text) < 2000, len(text)
    assert expected(users_parts("web1", p["users"]["view"])) == p["expect"]
    assert bundle.rendered(text) == "".join(users_parts("web1", p["users"]["view"]))


def test_the_users_bundle_is_valid_bash(prod: StackFile, tmp_path: Path) -> None:
    text = bundles(evaluate(_with(prod, {"users.alice": ALICE, "users.bob": BOB})))["web1-users"]
    script = tmp_path / "users.sh"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)      # parsed only: the bundle is never run on this host


def test_every_script_leaves_the_state_folder_readable_to_the_daemons(prod: StackFile) -> None:
    """/etc/stackkit holds configs that daemons read as their own users when they start (zope reads
    /etc/stackkit/plone/zope.ini): a users step that made it 0700 left Plone unable to start at the next boot."""
    made = re.compile(rf"^\s*install -d (?:-m (\d+) )?{re.escape(STATE_DIR)}$", re.M)
    for name, text in bundles(evaluate(_with(prod, {"users.alice": ALICE}))).items():
        modes = made.findall(text)
        assert modes, f"{name}: does not create /etc/stackkit"
        assert set(modes) == {"0755"}, f"{name}: /etc/stackkit made with mode(s) {modes}"


HOSTILE_COMMENT = "a'b\"c $(touch /tmp/SKPWNED-users) `id` ${HOME} \\ %s {} ; x"


def test_a_key_comment_reaches_the_instance_as_data(prod: StackFile) -> None:
    key = {**ALICE, "ssh_public_key": ALICE["ssh_public_key"].rsplit(" ", 1)[0] + " " + HOSTILE_COMMENT}
    text = bundles(evaluate(_with(prod, {"users.alice": key})))["web1-users"]
    found = re.findall(r"  sk_put /etc/stackkit/users.staged/(\S+) 0600 <<'(SK_EOF_\w+)'\n(.*?)\n\2\n", text, re.S)
    # the deploy user's key first (the stack's), then the users'
    assert [(f, c) for f, _, c in found if f.startswith("deploy.")] == [
        ("deploy.0.pub", " ".join(prod.config["stackkit:stack"]["ssh_public_key"].split()[:2]))]
    staged = [s for s in found if not s[0].startswith("deploy.")]
    assert staged == [("alice.pub", staged[0][1], key["ssh_public_key"])]
    block = f"<<'{staged[0][1]}'\n{key['ssh_public_key']}\n{staged[0][1]}\n"
    assert text.count(block) == 1 and "SKPWNED" not in text.replace(block, "")   # only inside its quoted heredoc
