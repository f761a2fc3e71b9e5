"""The console's view model from a stack's export and outputs (tests/console/staging.json: hand-written in the shape
of `pulumi stack export --show-secrets`; the e2e test tests/e2e/test_plone_first.py reads a real one), and its page."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stackkit.console.model import SECRET, Console, build, is_secret, run_line
from stackkit.console.page import render

HERE = Path(__file__).parent
PASSWORD = "hunter2-NEVER-SHOWN"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / "staging.json").read_text())
    return loaded


@pytest.fixture(scope="module")
def console(data: dict[str, Any]) -> Console:
    return build(data["export"]["deployment"], data["outputs"], data["since"])


def test_the_stack_and_its_layers_with_their_instances_and_load_balancer(console: Console) -> None:
    assert (console.stack, console.project) == ("staging", "stackkit")
    assert [(la.name, la.instances, la.load_balancer) for la in console.layers] == [
        ("frontend", ("web1",), "frontend-alb-123.eu-west-1.elb.amazonaws.com"),
        ("plone", ("app1",), None),
        ("zeoserver", ("db1",), None)]


def test_each_instance_with_its_state_type_az_addresses_and_layers(console: Console) -> None:
    web1 = console.instances[-1]
    assert [i.name for i in console.instances] == ["app1", "db1", "web1"]
    assert (web1.id, web1.state, web1.type, web1.az, web1.private_ip, web1.public_ip, web1.address, web1.layers) == (
        "i-0web1", "running", "t3.small", "eu-west-1a", "10.30.0.5", "198.51.100.7", "198.51.100.7", ("frontend",))


def test_the_last_runs_event_status_when_duration_and_output(console: Console) -> None:
    web1 = {r.command: r for r in console.instances[-1].runs}
    setup = web1["web1-setup"]
    assert (setup.event, setup.status, setup.started, setup.seconds) == ("setup", "ran", "2026-12-05 04:00:15 UTC", 41.5)
    assert setup.stdout.splitlines()[:2] == ["stackkit: setup of web1", "installed nginx varnish haproxy <b>&amp;"]
    assert setup.stderr == "debconf: delaying package configuration"
    assert (web1["web1-configure"].status, web1["web1-configure"].in_last_update) == ("unchanged", True)
    assert [r.event for r in console.instances[0].runs] == ["setup", "deploy", "configure"]


def test_a_command_whose_job_held_a_secret_shows_its_output_as_secret_but_its_run(console: Console) -> None:
    deploy = next(r for r in console.instances[0].runs if r.command == "app1-deploy-site")
    assert (deploy.stdout, deploy.event, deploy.status, deploy.seconds, deploy.app) == (SECRET, "deploy", "ran", 95.0, "site")
    db1 = console.instances[1].runs[0]        # only the ciphertext in the export: nothing to read
    assert (db1.stdout, db1.status, db1.event) == (SECRET, "no record", "configure")


def test_apps_with_the_revision_deployed_where(console: Console) -> None:
    (app,) = console.apps
    assert (app.name, app.source, app.revision, app.layers, app.domains) == (
        "site", "https://github.com/example/plone-site.git", "v1.2.0", ("plone",), ("staging.example.org",))
    assert [(d.instance, d.revision) for d in app.deployed] == [("app1", "v1.2.0")]


def test_which_instances_the_last_update_reran_configure_on_and_why(console: Console) -> None:
    why = {r.instance: (r.status, r.why) for r in console.configure_reran}
    assert why == {
        "app1": ("ran", "replaced by its trigger: the state its layers watch changed (now zeoserver: db1)"),
        "db1": ("no record", "a new instance: its first configure"),
        "web1": ("unchanged", "updated: its job or the runtime changed (it runs only if its job changed)")}


def test_without_the_last_update_time_nothing_counts_as_rerun(data: dict[str, Any]) -> None:
    console = build(data["export"]["deployment"], data["outputs"], None)
    assert console.configure_reran == ()
    assert console.last_update is None


def test_the_page_shows_everything_escaped_and_no_secret(console: Console) -> None:
    page = render(console)
    assert PASSWORD not in page and "v1:3cRaQm0A6PXx2gTz" not in page
    assert "installed nginx varnish haproxy &lt;b&gt;&amp;amp;" in page      # autoescaped, once
    assert "<script" not in page
    for text in ("Stack staging", "frontend-alb-123.eu-west-1.elb.amazonaws.com", "web1-setup", "a new instance",
                 "v1.2.0", "[secret]"):
        assert text in page


@pytest.mark.parametrize(("line", "ok"), [
    ('stackkit-run {"command": "setup", "event": "setup", "result": "ran", "seconds": 1.0, "started": 2.0}', True),
    ('stackkit-run {"command": "setup", "event": "setup", "result": "ran", "seconds": 1.0, "started": 2.0, "x": 1}', False),
    ('stackkit-run {"command": "setup", "event": "hack", "result": "ran", "seconds": 1.0, "started": 2.0}', False),
    ('stackkit-run {"command": "setup", "event": "setup", "result": "ok", "seconds": 1.0, "started": 2.0}', False),
    ('stackkit-run {"command": "setup", "event": "setup", "result": "ran", "seconds": "1", "started": 2.0}', False),
    ("stackkit-run not json", False),
    ("the script's own last line", False),
])
def test_only_a_well_typed_run_line_is_read(line: str, ok: bool) -> None:
    assert (run_line("first\n" + line + "\n") is not None) is ok


def test_secrets_are_decided_by_their_signature() -> None:
    sig = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
    assert is_secret({**sig, "ciphertext": "x"}) and is_secret({**sig, "plaintext": '"x"'})
    assert not is_secret({"4dabf18193072939515e22adb298388d": "something else"}) and not is_secret("[secret]")


def test_a_naive_update_time_is_utc(data: dict[str, Any]) -> None:
    naive = build(data["export"]["deployment"], data["outputs"], "2026-12-05T05:00:00")
    assert {r.instance for r in naive.configure_reran} == {"app1", "db1", "web1"}
