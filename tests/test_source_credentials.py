"""A private git repository's HTTPS credentials (apps.<app>.source.username + the secret source.password): in the
deploy's record only where the app is deployed, never in the App's outputs nor a configure view, and handed to git
through a credential-store file the app's user creates 0600, never through the URL or a command line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from stackkit.cluster.state import app_record, configure_apps, source_record
from stackkit.config.load import load
from stackkit.config.patch import apply
from stackkit.config.stackfile import read_stack_file
from stackkit.lifecycle.render import render
from tests.conftest import ROOT, STACKS

PASSWORD = "p@ss:w/rd $(id)'"


@pytest.fixture(scope="module")
def loaded():  # type: ignore[no-untyped-def]
    sf = read_stack_file(STACKS["production"])
    config = apply(sf.config, {"stackkit:apps.site.source.username": "deploy-bot",
                               "stackkit:apps.site.source.password": PASSWORD})
    return load(config, sf.secret_keys)


def test_the_record_carries_credentials_only_where_deployed(loaded) -> None:  # type: ignore[no-untyped-def]
    source = loaded.config.apps["site"].source
    assert source_record(source, here=True)["credentials"] == (
        "https://deploy-bot:p%40ss%3Aw%2Frd%20%24%28id%29%27@github.com")
    assert "credentials" not in source_record(source, here=False)
    assert "password" not in source_record(source, here=True)
    for instance in loaded.config.instances:
        for rec in configure_apps(loaded, instance).values():
            assert "credentials" not in (rec["source"] or {})


def test_the_deploy_hands_them_to_git_through_a_0600_file(loaded, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    instance = loaded.config.app_instances("site")[0]
    record = app_record(loaded, "site", instance)        # the deploy's own record of the app, credentials included
    attrs = loaded.attrs[instance]
    script = render("plone/deploy.sh.j2", {"app": record, "attrs": attrs}, layers_dir=ROOT / "layers")
    lines = [line for line in script.splitlines() if "p%40ss" in line]
    assert len(lines) == 1 and lines[0].startswith("printf '%s\\n' ")       # a builtin into a pipe: no argv
    assert "umask 077 && cat >" in script and "credential.helper=store --file=$creds" in script
    assert not re.search(r"git .*https://[^ ]*@", script)
    if shutil.which("shellcheck"):
        path = tmp_path / "deploy.sh"
        path.write_text(script)
        run = subprocess.run(["shellcheck", "-s", "bash", str(path)], capture_output=True, text=True, check=False)
        assert run.returncode == 0, run.stdout
