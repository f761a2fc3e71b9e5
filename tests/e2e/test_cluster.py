"""End to end, on real machines: converge a production-shaped stack with a Zope/ZEO app fetched by git at a
revision, then change it the way operators do, with a request loop through the frontend during each change.

The tests run in order and build on each other (one cluster per session). Figures are printed (pytest -s) and
written to <workdir>/figures.json."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from stackkit.local.stack import UpFailed
from tests.e2e.conftest import ROOT, WORKDIR, Cluster, Traffic, UpReport, basic_auth, http

pytestmark = pytest.mark.e2e
FIGURES: dict[str, object] = {}


def record(key: str, value: object) -> None:
    FIGURES[key] = value
    print(f"\nfigure {key}: {value}")
    (WORKDIR / "figures.json").write_text(json.dumps(FIGURES, indent=1))


def ran(report: UpReport) -> set[tuple[str, str, str]]:
    return report.ran()


def zope(cluster: Cluster, instance: str, path: str, data: dict | None = None) -> tuple[int, str]:
    """GET (or, with data, a multipart POST: `file` goes up as a file upload) on the instance's first Zope client."""
    url = f"http://{cluster.address(instance)}:8081/{path}"
    body = None
    boundary = "stackkit-e2e-boundary"
    if data is not None:
        parts = []
        for k, v in data.items():
            disposition = f'form-data; name="{k}"' + ('; filename="probe.txt"' if k == "file" else "")
            parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n{v}\r\n")
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    req = urllib.request.Request(url, data=body)
    if body is not None:
        req.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    req.add_header("Authorization", basic_auth(cluster.password))
    return http(req, timeout=30)


def up_under_traffic(cluster: Cluster, key: str):  # type: ignore[no-untyped-def]
    """`local up` while a request loop runs through the frontend; records the figures."""
    traffic = Traffic(cluster.url())
    traffic.start()
    report = cluster.up()
    traffic.stop()
    record(key, {"seconds": round(report.seconds, 1), "requests": traffic.sent, "failed": traffic.failed})
    return report, traffic


def test_converge(cluster: Cluster) -> None:
    start = time.monotonic()
    report = cluster.up()
    record("base_tree_seconds", round(cluster.base_seconds, 1))
    record("converge_seconds", round(time.monotonic() - start, 1))
    events = ran(report)
    for i in ("web1", "app1", "app2", "db1"):
        assert (i, "setup", "create") in events and (i, "configure", "create") in events
    assert {(i, "deploy", "create") for i in ("app1", "app2")} <= events
    with urllib.request.urlopen(cluster.url() + "?n=0", timeout=30) as r:
        assert r.status == 200 and r.headers["X-Cache"] in ("MISS", "HIT")


def test_machines_are_what_the_layers_say(cluster: Cluster) -> None:
    web, app, db = cluster.host("web1"), cluster.host("app1"), cluster.host("db1")
    for pkg in ("nginx", "varnish", "haproxy"):
        assert web.package(pkg).is_installed
    for svc in ("nginx", "varnish", "haproxy"):
        assert web.service(svc).is_running and web.service(svc).is_enabled
    assert web.socket("tcp://0.0.0.0:80").is_listening
    assert web.socket("tcp://127.0.0.1:6081").is_listening and not web.socket("tcp://0.0.0.0:6081").is_listening
    assert web.socket("tcp://127.0.0.1:8080").is_listening and not web.socket("tcp://0.0.0.0:8080").is_listening
    app_ip = cluster.address("app1")
    assert app.service("zope@8081").is_running and app.service("zope@8081").is_enabled
    assert app.socket(f"tcp://{app_ip}:8081").is_listening and not app.socket("tcp://0.0.0.0:8081").is_listening
    probe = cluster.config["stackkit:apps"]["site"]["environment"]["STACKKIT_PROBE"]
    environ = cluster.sh("app1", "cat /proc/$(systemctl show -p MainPID --value zope@8081)/environ").stdout
    assert f"STACKKIT_PROBE={probe}" in environ.split("\0"), "the app's environment reached Zope byte for byte"
    assert app.file("/etc/stackkit/plone/app.env").mode == 0o600
    conf = app.file("/etc/stackkit/plone/zope.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "zope", 0o640)
    assert app.file("/etc/stackkit/state.json").mode == 0o600
    assert app.file("/srv/apps/site/current").is_symlink
    db_ip = cluster.address("db1")
    assert db.service("zeoserver").is_running and db.service("zeoserver").is_enabled
    assert db.socket(f"tcp://{db_ip}:8100").is_listening and not db.socket("tcp://0.0.0.0:8100").is_listening
    assert db.file("/var/lib/zeoserver/filestorage/Data.fs").user == "zeo"
    assert db.service("stackkit-backup.timer").is_enabled and db.service("stackkit-pack.timer").is_enabled
    for i in ("web1", "app1", "app2", "db1"):
        # the hostname of its user data, made resolvable by setup (sk_resolvable): sudo no longer warns on every call
        r = cluster.sh(i, 'hostname; getent hosts "$(hostname)" | wc -l')
        assert r.stdout.split() == [i, "1"] and "unable to resolve host" not in r.stderr, (i, r)


def test_an_object_written_through_one_client_is_read_through_the_other(cluster: Cluster) -> None:
    status, _ = zope(cluster, "app1", "manage_addProduct/OFSP/manage_addFile",
                     {"id": "probe", "title": "written through app1", "file": "hello from app1"})
    assert status in (200, 302), status
    status, body = zope(cluster, "app2", "probe")
    assert (status, body) == (200, "hello from app1")
    with urllib.request.urlopen(cluster.url() + "probe", timeout=30) as r:
        assert r.read().decode() == "hello from app1"


def test_backup_runs(cluster: Cluster) -> None:
    out = cluster.sh("db1", "systemctl start stackkit-backup.service && ls /var/backups/zeoserver/filestorage").stdout
    assert ".fs" in out


def test_add_a_plone_instance_under_traffic(cluster: Cluster) -> None:
    cluster.config["stackkit:instances"]["app3"] = {"layers": ["plone"]}
    predicted = cluster.predicted()
    report, traffic = up_under_traffic(cluster, "add_app3")
    assert ran(report) == predicted
    configured = {i for i, e, p in ran(report) if e == "configure"}
    assert configured == {"web1", "app3"}, "configure re-ran only where the watched state changed"
    haproxy = cluster.sh("web1", "cat /etc/haproxy/haproxy.cfg").stdout
    assert f"server app3-8081 {cluster.address('app3')}:8081" in haproxy
    assert traffic.failed == 0, traffic.errors


def test_remove_a_plone_instance_under_traffic(cluster: Cluster) -> None:
    del cluster.config["stackkit:instances"]["app2"]
    predicted = cluster.predicted()
    app2 = cluster.address("app2")
    report, traffic = up_under_traffic(cluster, "remove_app2")
    assert ran(report) == predicted
    order = report.order()
    assert order.index(("web1", "configure")) < order.index(("app2", "shutdown")), "out of haproxy before shutdown"
    assert app2 not in cluster.sh("web1", "cat /etc/haproxy/haproxy.cfg").stdout
    assert traffic.failed == 0, traffic.errors


def test_rolling_deploy_of_a_new_revision_under_traffic(cluster: Cluster, tmp_path: Path) -> None:
    tag = cluster.publish_version("site", "2", tmp_path)
    predicted = cluster.predicted()
    assert {e for _, e, _ in predicted} == {"deploy"}
    report, traffic = up_under_traffic(cluster, "rolling_deploy")
    assert ran(report) == {("app1", "deploy", "update"), ("app3", "deploy", "update")}
    commit = subprocess.run(["git", "-C", str(cluster.git_dir / "git" / "site.git"), "rev-parse", f"{tag}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{40}", commit), commit
    for i in ("app1", "app3"):
        # a release is named by the commit the revision resolved to
        assert cluster.sh(i, "readlink -f /srv/apps/site/current").stdout.endswith(f"/releases/{commit}")
        assert cluster.sh(i, "cat /srv/apps/site/current/VERSION").stdout == "2"
    assert traffic.failed == 0, traffic.errors


def test_a_branch_revision_deploys_its_newest_commit(cluster: Cluster, tmp_path: Path) -> None:
    """`revision: main` is resolved on every deploy: a new commit on the branch goes out when deploy runs again
    (a redeploy nonce), where a release marker once kept the first build forever."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples/site", site)
    source = cluster.config["stackkit:apps"]["site"]
    for version, nonce in (("3", 1), ("4", 2)):
        (site / "VERSION").write_text(f"{version}\n")
        cluster.publish(site)
        source["source"]["revision"] = "main"
        source["redeploy"] = {"nonce": nonce}
        report, traffic = up_under_traffic(cluster, f"branch_deploy_{version}")
        assert {e for _, e, _ in ran(report)} == {"deploy"}
        for i in ("app1", "app3"):
            assert cluster.sh(i, "cat /srv/apps/site/current/VERSION").stdout == version
        assert traffic.failed == 0, traffic.errors


SECRET_SIG = "4dabf18193072939515e22adb298388d"


def revealed(value: Any) -> Any:
    """A value of `pulumi stack export --show-secrets`: a secret is {SIG: ..., "plaintext": its JSON}."""
    if isinstance(value, dict) and SECRET_SIG in value:
        return json.loads(value["plaintext"])
    return value


def test_nothing_to_do_and_every_script_again_changes_nothing(cluster: Cluster) -> None:
    assert cluster.up().commands() == []
    files = "/etc/haproxy/haproxy.cfg /etc/nginx/nginx.conf /etc/varnish/default.vcl /etc/stackkit/plone/zope.conf " \
            "/etc/stackkit/zeoserver/zeo.conf"
    before = {i: cluster.sh(i, f"md5sum {files} 2>/dev/null || true").stdout for i in ("web1", "app1", "db1")}
    # every command's create again, as pulumi-command would run it: its stored command string and stdin, as the
    # deploy user on its instance (the state decrypted: what the engine holds)
    rerun = 0
    for r in cluster.ls.export()["resources"]:
        if r["type"] == "command:remote:Command":
            instance = cluster.outputs()["commands"][r["urn"].rsplit("::", 1)[-1]]["instance"]
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run([*cluster.ssh_argv(instance, Path(tmp) / "known"), r["inputs"]["create"]],
                                     input=revealed(r["inputs"]["stdin"]), capture_output=True, text=True,
                                     timeout=900)
            assert out.returncode == 0, (r["urn"], out.stderr[-2000:])
            rerun += 1
    after = {i: cluster.sh(i, f"md5sum {files} 2>/dev/null || true").stdout for i in ("web1", "app1", "db1")}
    record("forced_reruns", rerun)
    assert before == after
    assert cluster.up().commands() == []


def test_a_failing_script_stops_the_run_and_the_next_run_resumes(cluster: Cluster) -> None:
    cluster.config["stackkit:instances"]["app4"] = {"layers": ["plone"],
                                                     "attributes": {"plone": {"requirements": "missing.txt"}}}
    with pytest.raises(UpFailed) as err:
        cluster.up()
    text = str(err.value)
    assert "failed at app4-deploy-site" in text, text
    assert "missing.txt" in text and "it resumes where it stopped" in text
    assert [s.name for s in err.value.recorder.steps if s.failed] == ["app4-deploy-site"]
    cluster.config["stackkit:instances"]["app4"] = {"layers": ["plone"]}
    report = cluster.up()
    events = [(i, e) for i, e, _ in ran(report)]
    assert ("app4", "deploy") in events and ("app4", "setup") not in events, "setup had succeeded: not run again"


def test_replacing_the_zeoserver_keeps_data_and_backups(cluster: Cluster) -> None:
    status, _ = zope(cluster, "app1", "manage_addProduct/OFSP/manage_addFile",
                     {"id": "before-replace", "title": "written before db1 moved", "file": "kept across the move"})
    assert status in (200, 302), status
    old_machine = cluster.machine("db1")
    before = cluster.sh("db1", "ls /var/backups/zeoserver/filestorage | wc -l").stdout
    report = cluster.up(replace=frozenset({"db1"}))
    record("replace_db1_seconds", round(report.seconds, 1))
    order = report.order()
    # both data volumes move: the old zeoserver's shutdown runs while they are still attached (before either detach
    # stops the instance), then the new one sets up on them
    assert order[0] == ("db1", "shutdown"), order
    assert cluster.machine("db1") != old_machine, "db1 is a new instance"
    assert old_machine not in {m.name for m in cluster.fleet.status()}, "the old instance is terminated"
    assert cluster.sh("db1", "ls /var/backups/zeoserver/filestorage | wc -l").stdout == before
    for client in cluster.plone_instances():        # every ZEO client the stack has now reads it from the new db1
        status, body = zope(cluster, client, "before-replace")
        assert (status, body) == (200, "kept across the move"), client


def test_removing_the_app_undeploys_once(cluster: Cluster) -> None:
    cluster.config["stackkit:apps"]["site"]["layers"] = ["frontend"]
    report = cluster.up()
    undeployed = sorted(i for i, e, _ in ran(report) if e == "undeploy")
    assert undeployed == ["app1", "app3", "app4"]
    assert "inactive" in cluster.sh("app1", "systemctl is-active zope@8081 || true").stdout
    assert cluster.sh("app1", "test -e /srv/apps/site && echo present || echo gone").stdout == "gone"
