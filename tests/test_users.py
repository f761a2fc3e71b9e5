"""Per-user SSH and sudo (stackkit:users): a change to the users runs exactly the users steps of the instances it
concerns (USERS_SCENARIOS, data), no other view holds a user, and the users bundle carries keys and names as data."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.lifecycle import bundle
from stackkit.lifecycle.rules import commands, steps
from stackkit.lifecycle.scenarios import ALICE, BOB, USERS_SCENARIOS
from stackkit.lifecycle.script import RUN_JOB, digest
from stackkit.plan.evaluate import Plan, evaluate
from tests.conftest import bundles


def _with(sf: StackFile, change: dict) -> StackFile:
    return sf.with_change(change)


@pytest.fixture(scope="module")
def prod(stack_files: dict[str, StackFile]) -> StackFile:
    return stack_files["production"]


@pytest.mark.parametrize("name,before,change,expected", USERS_SCENARIOS, ids=[s[0] for s in USERS_SCENARIOS])
def test_exactly_the_users_steps_run(prod: StackFile, plans: dict[str, Plan], name: str, before: dict, change: dict,
                                     expected: set) -> None:
    old_file = _with(prod, before)
    old = evaluate(old_file) if before else plans["production"]
    new = evaluate(_with(old_file, change))
    got = {(s.name, s.op, s.phase) for s in commands(steps(old, new))}
    assert got == expected


def test_the_users_steps_run_users_and_lock_users(prod: StackFile, plans: dict[str, Plan]) -> None:
    with_alice = evaluate(_with(prod, {"users.alice": ALICE}))
    added = commands(steps(plans["production"], with_alice))
    assert {(s.instance, s.event) for s in added} == {("web1", "users"), ("web2", "users")}
    removed = commands(steps(with_alice, plans["production"]))
    assert {(s.instance, s.event, s.runs) for s in removed} == {("web1", "lock_users", "delete"),
                                                              ("web2", "lock_users", "delete")}


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
    assert cmd.secret_inputs["delete"] == RUN_JOB.format(event="lock_users")
    by = with_users.by_urn()
    waits = {by[u].name for u in cmd.options["dependsOn"]}
    assert {"web1-setup", "web1-library"} <= waits
    assert not {w for w in waits if "deploy" in w or "configure" in w or "ready" in w}
    assert cmd.options["deletedWith"] == with_users.named("web1", "aws:ec2/instance:Instance").urn


def test_the_users_step_carries_its_view_not_its_script(prod: StackFile) -> None:
    """As every other command: the users and their keys as data, the digest of the script the plan rendered, and the
    runtime that renders it again on the instance (the prelude and users.sh travel once, in the library)."""
    plan = evaluate(_with(prod, {"users.alice": ALICE, "users.bob": BOB}))
    cmd = plan.named("web1-users", "command:remote:Command")
    text = cmd.secret_inputs["stdin"]
    p = bundle.payload(text)
    assert set(p) == {"expect", "users", "runtime"} and p["users"]["instance"] == "web1"
    assert sorted(p["users"]["view"]["users"]) == ["alice", "bob"]
    assert p["users"]["view"]["users"]["alice"]["ssh_public_key"] == ALICE["ssh_public_key"]
    assert "sk_users" not in text and "sk_log" not in text and len(text) < 2000, len(text)
    assert digest(bundle.rendered(text)) == p["expect"]


def test_the_users_bundle_is_valid_bash(prod: StackFile, tmp_path: Path) -> None:
    text = bundles(evaluate(_with(prod, {"users.alice": ALICE, "users.bob": BOB})))["web1-users"]
    script = tmp_path / "users.sh"
    script.write_text(text)
    subprocess.run(["bash", "-n", str(script)], check=True)      # parsed only: the bundle is never run on this host


HOSTILE_COMMENT = "a'b\"c $(touch /tmp/SKPWNED-users) `id` ${HOME} \\ %s {} ; x"


def test_a_key_comment_reaches_the_instance_as_data(prod: StackFile) -> None:
    key = {**ALICE, "ssh_public_key": ALICE["ssh_public_key"].rsplit(" ", 1)[0] + " " + HOSTILE_COMMENT}
    text = bundles(evaluate(_with(prod, {"users.alice": key})))["web1-users"]
    staged = re.findall(r"  sk_put /etc/stackkit/users.staged/(\S+) 0600 <<'(SK_EOF_\w+)'\n(.*?)\n\2\n", text, re.S)
    assert staged == [("alice.pub", staged[0][1], key["ssh_public_key"])]
    block = f"<<'{staged[0][1]}'\n{key['ssh_public_key']}\n{staged[0][1]}\n"
    assert text.count(block) == 1 and "SKPWNED" not in text.replace(block, "")   # only inside its quoted heredoc
