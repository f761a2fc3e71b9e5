"""The instance library and the commands' jobs (stackkit.lifecycle.bundle, host, script): what the host does with a
command's stdin, run here against a store in a temporary folder."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from stackkit import paths
from stackkit.lifecycle import boot, bundle, host, script
from stackkit.lifecycle.script import digest
from stackkit.plan.evaluate import Plan, Resource

COMMAND = "command:remote:Command"
COPY = "command:remote:CopyToRemote"


def _commands(plan: Plan) -> list[Resource]:
    return [r for r in plan.of_type(COMMAND) if not r.name.endswith("-users")]


def _library(plan: Plan, instance: str) -> Path:
    r = next(r for r in plan.of_type(COPY) if r.name == f"{instance}-library")
    return Path(r.secret_inputs["source"]["path"])


def z_read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def _store(tmp_path: Path, upload: Path) -> Path:
    store = tmp_path / "lib"
    boot.store_upload(str(upload), str(store))
    return store


def test_every_command_is_a_job_whose_files_are_in_its_instance_library(plans: dict[str, Plan]) -> None:
    for stack in ("production", "relstorage"):
        plan = plans[stack]
        for r in _commands(plan):
            text = r.secret_inputs["stdin"]
            assert bundle.is_job(text), r.name
            p = bundle.payload(text)
            inst = p["job"]["view"]["instance"]["name"]
            with zipfile.ZipFile(_library(plan, inst)) as z:
                names = set(z.namelist())
            specs = [json.loads(z_read(_library(plan, inst), d)) for d in p["files"].values()]
            used = {d for spec in specs for d in spec["files"].values()}
            runtime = z_read(_library(plan, inst), "runtime").decode()
            assert "runtime" not in p, "the runtime is the library's, never a command's input"
            assert set(p["files"].values()) | used | {runtime} <= names, r.name
            # the library's name is its digest, and the copy is replaced with its instance
            path = _library(plan, inst)
            assert path.stem == digest(path.read_bytes())
            copy = next(c for c in plan.of_type(COPY) if c.name == f"{inst}-library")
            assert copy.options["deletedWith"] and copy.secret_inputs["triggers"]
            assert copy.urn in r.dependencies, f"{r.name} does not wait for its library"


def test_the_host_renders_exactly_the_plans_script(plans: dict[str, Plan], tmp_path: Path) -> None:
    plan = plans["production"]
    stores: dict[str, Path] = {}
    for r in _commands(plan):
        p = bundle.payload(r.secret_inputs["stdin"])
        inst = p["job"]["view"]["instance"]["name"]
        if inst not in stores:
            stores[inst] = _store(tmp_path / inst, _library(plan, inst))
        folder = tmp_path / "run" / r.name
        folder.mkdir(parents=True)
        path = host.prepare(p, folder, stores[inst])      # dies unless the digest is the plan's
        assert path.read_text() == bundle.rendered(r.secret_inputs["stdin"]), r.name


def test_the_host_renders_the_users_step_from_its_view(stack_files: dict, tmp_path: Path) -> None:
    """The users step's job is its users view: the host renders the plan's script from it with the runtime of the
    library (users.py and users.sh are in it), and refuses a view that is not the one the plan rendered."""
    from stackkit.lifecycle.scenarios import ALICE
    from stackkit.plan.evaluate import evaluate

    plan = evaluate(stack_files["production"].with_change({"users.alice": ALICE}))
    r = plan.named("web1-users", COMMAND)
    p = bundle.payload(r.secret_inputs["stdin"])
    store = _store(tmp_path, _library(plan, "web1"))
    assert (store / (store / "runtime").read_text()).exists()
    (tmp_path / "run").mkdir()
    path = host.prepare(p, tmp_path / "run", store)
    assert path.read_text() == bundle.rendered(r.secret_inputs["stdin"]) and "sk_users alice 1" in path.read_text()
    p["users"]["view"]["users"]["alice"]["sudo"] = False
    with pytest.raises(SystemExit):
        host.prepare(p, tmp_path / "run", store)


def test_the_host_refuses_a_file_that_is_not_the_plans(plans: dict[str, Plan], tmp_path: Path) -> None:
    plan = plans["production"]
    r = next(r for r in _commands(plan) if r.name == "web1-configure")
    p = bundle.payload(r.secret_inputs["stdin"])
    store = _store(tmp_path, _library(plan, "web1"))
    # a store entry that is not what the job names (as if edited on the host): the rendered script differs
    spec = json.loads((store / p["files"]["frontend/configure.json"]).read_text())
    entry = store / spec["files"]["frontend/haproxy.cfg.j2"]
    entry.write_text(entry.read_text() + "# edited\n")
    (tmp_path / "run").mkdir()
    with pytest.raises(SystemExit):
        host.prepare(p, tmp_path / "run", store)
    # a file the store does not have (the upload never arrived)
    entry.unlink()
    with pytest.raises(SystemExit):
        host.prepare(p, tmp_path / "run", store)


def test_the_bootstrap_stores_only_files_that_match_their_digest(tmp_path: Path) -> None:
    good, bad = b"echo good\n", b"echo bad\n"
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as z:
        z.writestr(digest(good), good)
        z.writestr("0" * 16, bad)          # a name that is not its content's digest
        z.writestr("__main__.py", bundle.BOOT_FILE.read_bytes())
    store = _store(tmp_path, upload)
    assert (store / digest(good)).read_bytes() == good
    assert sorted(f.name for f in store.iterdir()) == sorted([digest(good), "boot.zip"])
    assert oct(store.stat().st_mode & 0o777) == "0o700"
    with zipfile.ZipFile(store / "boot.zip") as z:
        assert z.namelist() == ["__main__.py"] and z.read("__main__.py") == bundle.BOOT_FILE.read_bytes()


def test_a_command_runs_through_the_bootstrap(plans: dict[str, Plan], tmp_path: Path) -> None:
    """The command's own `create`, run by sh with the upload in a test home and the store in a test folder (the
    bootstrap's STORE moved there, sudo left out): python3 runs the upload, which stores the library and renders the
    job; bash then runs the script, here a stand-in that keeps it and prints its event, so nothing touches this host."""
    plan = plans["production"]
    r = next(r for r in _commands(plan) if r.name == "web1-setup")
    home = tmp_path / "home"
    home.mkdir()
    store = tmp_path / "lib"
    source = _library(plan, "web1").read_bytes()
    upload = home / script.UPLOAD
    with zipfile.ZipFile(io.BytesIO(source)) as z, zipfile.ZipFile(upload, "w") as out:
        for name in z.namelist():
            data = z.read(name)
            if name == "__main__.py":
                data = data.replace(f'STORE = "{script.STORE}"'.encode(), f'STORE = "{store}"'.encode())
            out.writestr(name, data)
    with zipfile.ZipFile(upload) as z:
        assert f'STORE = "{store}"' in z.read("__main__.py").decode(), "the bootstrap's STORE line moved"
    create = r.secret_inputs["create"]
    assert create == script.RUN_JOB.format(event="setup") and create.count("sudo -n ") == 1
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bash").write_text(f"#!/bin/sh\ncp \"$1\" {tmp_path}/ran.sh; echo \"ran $2\"\n")
    (fake / "bash").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HOME": str(home)}

    def run(command: str, stdin: str) -> tuple[list[str], dict]:
        proc = subprocess.run(["/bin/sh", "-c", command.replace("sudo -n ", "")], input=stdin, capture_output=True,
                              text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.strip().splitlines()
        assert lines[-1].startswith("stackkit-run "), lines     # the last line, as data (the console reads it)
        return lines[:-1], json.loads(lines[-1].split(" ", 1)[1])

    stdin = r.secret_inputs["stdin"]
    lines, report = run(create, stdin)
    assert lines == ["ran setup"] and (report["command"], report["event"], report["result"]) == ("setup", "setup", "ran")
    assert (tmp_path / "ran.sh").read_text() == bundle.rendered(stdin)
    runtime = (store / "runtime").read_text()
    assert (store / "boot.zip").exists() and (store / runtime).exists()
    assert list((tmp_path / "run").iterdir()) == [], "the script's folder (it holds the view's secrets) is left"
    # pulumi-command's update (any input changed, its connection included): the same job does not run again
    update = r.secret_inputs["update"]
    assert update == script.UPDATE_JOB.format(event="setup")
    lines, report = run(update, stdin)
    assert report["result"] == "unchanged" and not [line for line in lines if line.startswith("ran ")]
    # a job that is not the one that last ran to its end here (the record says another) runs
    applied = tmp_path / "applied" / "setup.json"
    assert json.loads(applied.read_text())["digest"] == host.job_digest(json.loads(stdin))
    applied.write_text(json.dumps({**json.loads(applied.read_text()), "digest": "another job"}))
    lines, report = run(update, stdin)
    assert lines == ["ran setup"] and report["result"] == "ran"
    assert json.loads(applied.read_text())["digest"] == host.job_digest(json.loads(stdin))
    # the upload gone: the store's copy of the bootstrap runs the same job from the store alone
    upload.unlink()
    lines, report = run(create.replace(script.STORE, str(store)), stdin)
    assert lines == ["ran setup"] and report["result"] == "ran"


def test_the_bootstrap_and_the_commands_agree_on_the_store() -> None:
    assert boot.STORE == script.STORE


def test_command_inputs_are_small_and_carry_the_data(plans: dict[str, Plan]) -> None:
    """Each command carries its view, not the scripts: a few KB, and the view is there as data."""
    plan = plans["production"]
    for r in _commands(plan):
        text = r.secret_inputs["stdin"]
        assert len(text) < 6000, f"{r.name}: {len(text)} bytes"
        assert "sk_install" not in text and "sk_layer_" not in text, r.name
        assert r.secret_inputs["create"] in script.EVENT_OF, r.name
        p = bundle.payload(text)
        assert r.name.startswith(p["job"]["view"]["instance"]["name"] + "-")
        assert p["job"]["view"]["event"] == script.EVENT_OF[r.secret_inputs["create"]] or r.name.endswith("-shutdown")


def test_a_changed_script_changes_only_the_commands_that_run_it(stack_files: dict, tmp_path: Path) -> None:
    """The frontend's configure script edited: web1's and web2's configure inputs change (the file's digest and the
    expected script), nothing else; their libraries are uploaded again."""
    import shutil

    from stackkit.paths import LAYERS_DIR
    from stackkit.plan.evaluate import evaluate

    layers = tmp_path / "layers"
    shutil.copytree(LAYERS_DIR, layers)
    before = evaluate(stack_files["production"])
    with (layers / "frontend/configure.sh.j2").open("a") as fh:
        fh.write("\n# a comment only\n")
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(paths, "SHIPPED_LAYERS_DIR", layers)       # the layers in use, as STACKKIT_LAYERS_DIR sets them
        mp.setattr(paths, "LAYERS_DIR", layers)
        after = evaluate(stack_files["production"])
    finally:
        mp.undo()
    old = {r.name: r.secret_inputs for r in before.resources if r.type in (COMMAND, COPY)}
    new = {r.name: r.secret_inputs for r in after.resources if r.type in (COMMAND, COPY)}
    changed = sorted(n for n in new if new[n] != old[n])
    assert changed == ["web1-configure", "web1-library", "web2-configure", "web2-library"]
    p_old = bundle.payload(old["web1-configure"]["stdin"])
    p_new = bundle.payload(new["web1-configure"]["stdin"])
    assert {k for k in p_new["files"] if p_new["files"][k] != p_old["files"][k]} == {"frontend/configure.json"}
    # the layer's metadata names the file whose digest changed
    s_old, s_new = bundle.spec_of(p_old, "frontend")["files"], bundle.spec_of(p_new, "frontend")["files"]
    assert {k for k in s_new if s_new[k] != s_old[k]} == {"frontend/configure.sh.j2"}
    assert p_new["job"] == p_old["job"] and p_new["expect"] != p_old["expect"]
    assert json.dumps(p_new["job"]) == json.dumps(p_old["job"])


@pytest.mark.parametrize(("attribute", "value", "commands"), [
    # zope.ini reads it, and the frontends' haproxy (a server's maxconn follows it): configure only, never deploy (a
    # rolling restart) or setup
    ("plone.threads", 3, {f"app{i}-configure" for i in range(1, 6)} | {"web1-configure", "web2-configure"}),
    # read by the drain unit (configure), deploy and undeploy (the deploy command) and shutdown
    ("plone.drain_seconds", 7, {f"app{i}-{c}" for i in range(1, 6) for c in ("configure", "deploy-site", "shutdown")}),
])
def test_an_attribute_reaches_only_the_commands_whose_files_read_it(stack_files: dict, attribute: str, value: object,
                                                                    commands: set[str]) -> None:
    from stackkit.config.stackfile import StackFile
    from stackkit.plan.evaluate import evaluate

    sf = stack_files["production"]
    config = json.loads(json.dumps(sf.config))
    layer, key = attribute.split(".")
    config["stackkit:layers"][layer].setdefault("attributes", {}).setdefault(layer, {})[key] = value
    before = evaluate(sf)
    after = evaluate(StackFile(sf.path, config, sf.secret_keys, sf.placeholders))
    old = {r.name: r.secret_inputs for r in before.of_type(COMMAND)}
    new = {r.name: r.secret_inputs for r in after.of_type(COMMAND)}
    assert {n for n in new if new[n] != old[n]} == commands
    for n in commands:
        p = bundle.payload(new[n]["stdin"])
        if layer in p["job"]["view"]["instance"]["layers"]:
            assert p["job"]["attrs"][layer][key] == value
        assert set(p["job"]["attrs"]) <= {"plone", "zeoserver", "frontend", "maintenance"}


def test_a_runtime_only_release_changes_no_command(stack_files: dict) -> None:
    """A release that changes only the runtime (here: the prelude) changes every instance's library, which uploads it
    again, and no command's input: upgrading stackkit runs no script (docs/design.md, "What a command carries")."""
    from stackkit.plan.evaluate import evaluate

    before = evaluate(stack_files["production"])
    real_text, real_runtime = script.library_text, bundle.runtime()
    with zipfile.ZipFile(io.BytesIO(real_runtime)) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    entries["stackkit/lifecycle/prelude.sh"] += b"\n# a release's prelude change\n"
    released = bundle._zip(entries)
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(script, "library_text", lambda name: real_text(name) + ("\n# a release's prelude change\n"
                                                                            if name == "prelude.sh" else ""))
        mp.setattr(bundle, "runtime", lambda: released)
        after = evaluate(stack_files["production"])
    finally:
        mp.undo()
    old = {r.name: r.secret_inputs for r in before.resources if r.type in (COMMAND, COPY)}
    new = {r.name: r.secret_inputs for r in after.resources if r.type in (COMMAND, COPY)}
    assert sorted(n for n in new if new[n] != old[n]) == sorted(r.name for r in after.of_type(COPY))
