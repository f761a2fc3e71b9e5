"""Plone first, on the machines: the site follows the app, a forced redeploy restarts, the console shows the stack.

- A running stack serving the bare Zope app (examples/site, with PLONE_SITE_ID set as staging has it) switches its
  source to examples/plone: only deploy runs (configure reads no source), and the deploy creates the Plone site. The
  frontend's URL, with no Host header, shows it (the default server is the first app's first domain).
- A forced redeploy (`apps.site.redeploy.nonce`) of the unchanged revision builds a fresh release on every plone
  instance and restarts their clients, instance after instance (the layer's rolling batches), under traffic through
  the frontend: 0 failed requests.
- The console page of the converged cluster (stackkit.console, from `pulumi stack export` and the outputs through
  the Automation API) opened in headless Chromium shows its instances, layers and the last setup's output, and no
  secret; a screenshot is saved.

Runs after test_cluster.py removed its app and before test_plone.py (tests/e2e/conftest.py). Alone, it converges the
cluster first: pytest tests/e2e/test_plone_first.py
"""

from __future__ import annotations

import copy
import re
import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from stackkit.console.model import revealed, run_line
from stackkit.console.page import write
from stackkit.console.source import read, snapshot
from tests.console.chromium import dom_text, screenshot
from tests.e2e.conftest import ROOT, Cluster, Traffic, UpReport, http

pytestmark = pytest.mark.e2e
SITE = "Plone"


def get(url: str) -> tuple[int, str]:
    """GET through the frontend by its address alone: no Host header but the address (what a browser sends)."""
    return http(urllib.request.Request(url, headers={"Accept": "text/html"}), timeout=60)


@pytest.fixture(scope="module")
def zope(cluster: Cluster) -> UpReport:
    """App "site" as the bare Zope project, with PLONE_SITE_ID as the staging stack has it, converged (from nothing
    when this module runs alone; after test_cluster.py removed the app, in the whole suite)."""
    site = copy.deepcopy(cluster.base.config["stackkit:apps"]["site"])
    site["environment"] = {**site.get("environment", {}), "PLONE_SITE_ID": SITE}
    cluster.config.setdefault("stackkit:apps", {})["site"] = site
    cluster.publish(ROOT / "examples/site")
    report = cluster.up()
    print(f"\nfigure zope_converge_seconds: {round(report.seconds, 1)} ({len(report.commands())} scripts)")
    return report


@pytest.fixture(scope="module")
def switched(cluster: Cluster, zope: UpReport) -> UpReport:
    status, body = get(cluster.url())
    assert "portaltype-plone-site" not in body, (status, body[:300])        # a Zope app: no Plone site yet
    cluster.publish(ROOT / "examples/plone")
    report = cluster.up()
    print(f"\nfigure zope_to_plone_switch_seconds: {round(report.seconds, 1)} ({report.commands()})")
    return report


def test_switching_a_running_zope_app_to_plone_creates_the_site_in_its_deploy(cluster: Cluster,
                                                                            switched: UpReport) -> None:
    ran = switched.commands()
    assert {e for _, e, _ in ran} == {"deploy"}, ran          # no configure: the site came with the deploy
    assert {i for i, _, _ in ran} == set(cluster.plone_instances())
    markers = {i: cluster.sh(i, f"test -f /var/lib/stackkit/plone/site-created.{SITE} && echo yes").stdout
               for i in cluster.plone_instances()}
    assert set(markers.values()) == {"yes"}, markers
    deadline, status, body = time.monotonic() + 120, 0, ""
    while time.monotonic() < deadline and "portaltype-plone-site" not in body:
        status, body = get(cluster.url())
        time.sleep(0 if status == 200 else 3)
    assert status == 200 and "portaltype-plone-site" in body and "<title>Plone" in body, body[:500]
    # its links name the address the browser asked for (Zope's virtual hosting of the default server)
    assert f'href="{cluster.url().rstrip("/")}' in body, body[:2000]


def _release(cluster: Cluster, instance: str) -> str:
    return cluster.sh(instance, "readlink -f /srv/apps/site/current").stdout


def _pid(cluster: Cluster, instance: str) -> str:
    return cluster.sh(instance, "systemctl show -p MainPID --value zope@8081").stdout


def test_a_forced_redeploy_builds_a_fresh_release_and_restarts_in_rolling_batches_under_traffic(
        cluster: Cluster, switched: UpReport) -> None:
    apps = cluster.plone_instances()
    before = {i: (_release(cluster, i), _pid(cluster, i)) for i in apps}
    cluster.config["stackkit:apps"]["site"]["redeploy"] = {"nonce": 1}
    traffic = Traffic(cluster.url())
    traffic.start()
    report = cluster.up()
    traffic.stop()
    deploys = sorted((r for r in report.runs if r.event == "deploy" and r.result == "ran"), key=lambda r: r.started)
    print(f"\nfigure forced_redeploy: {{'seconds': {round(report.seconds, 1)}, 'requests': {traffic.sent}, "
          f"'failed': {traffic.failed}, 'deploys': {[(r.instance, r.seconds) for r in deploys]}}}")
    assert {e for _, e, _ in report.commands()} == {"deploy"}, report.commands()
    assert [r.instance for r in deploys] == apps            # one batch each (rolling: {batch: 1}), in order
    for first, then in zip(deploys, deploys[1:], strict=False):
        assert then.started >= first.started + first.seconds - 0.5, (first, then)   # the next batch after the last
    for i in apps:
        release, pid = _release(cluster, i), _pid(cluster, i)
        old_release, old_pid = before[i]
        assert release != old_release and release.startswith(old_release + "-redeploy-"), (release, old_release)
        assert re.fullmatch(r".*-redeploy-[0-9a-f]{12}", release), release
        assert cluster.sh(i, f"test -f {release}/.stackkit-built && echo yes").stdout == "yes"
        assert pid != old_pid and pid != "0", (i, pid, old_pid)            # its client restarted
    assert traffic.sent > 100 and traffic.failed == 0, traffic.errors


def test_the_console_of_the_cluster_in_chromium(cluster: Cluster, switched: UpReport, tmp_path: Path) -> None:
    stack = cluster.ls.engine
    deployment, outputs, since = snapshot(stack)
    console = read(stack)
    assert {i.name for i in console.instances} == set(cluster.config["stackkit:instances"])
    layers = {la.name: set(la.instances) for la in console.layers}
    for name, inst in cluster.config["stackkit:instances"].items():
        assert {la for la, members in layers.items() if name in members} == set(inst["layers"])
    (app,) = console.apps
    assert {d.instance for d in app.deployed} == set(cluster.plone_instances())
    assert console.configure_reran == ()                     # the last update (the redeploy) ran no configure
    # the last setup of web1, as its command recorded it
    setup_res = next(r for r in deployment["resources"] if r["urn"].endswith("::web1-setup"))
    recorded = revealed(setup_res["outputs"]["stdout"])
    line = run_line(recorded)
    assert line is not None and line["event"] == "setup", recorded[-500:]
    setup = next(r for i in console.instances if i.name == "web1" for r in i.runs if r.command == "web1-setup")
    assert setup.stdout == recorded and setup.status in ("ran", "unchanged")

    page = write(console, tmp_path / "console")
    text = dom_text(page)
    for seen in (f"Stack {cluster.ls.stack}", "web1", "app1", "frontend", "plone", "zeoserver", "web1-setup"):
        assert seen in text, seen
    lines = [ln.strip() for ln in recorded.splitlines() if ln.strip()]
    assert all(re.sub(r"\s+", " ", ln) in text for ln in lines[-5:]), lines[-5:]     # its output, as shown
    for secret in cluster.ls.secret_values():
        for line in secret.splitlines():
            if len(line.strip()) >= 8:
                assert line.strip() not in page.read_text()
    png = screenshot(page, tmp_path / "console.png")
    kept = cluster.workdir / "console.png"
    shutil.copyfile(png, kept)
    print(f"\nfigure console: {{'instances': {len(console.instances)}, 'runs': "
          f"{sum(len(i.runs) for i in console.instances)}, 'screenshot': '{kept}', 'since': '{since}', "
          f"'outputs': {sorted(outputs)}}}")
