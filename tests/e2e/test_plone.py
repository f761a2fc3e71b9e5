"""A real Plone site on the cluster (examples/plone: Products.CMFPlone 6.1 with the REST API, every version pinned):
deployed to the plone instances, the site created once by configure, its front page through the frontend (nginx ->
varnish -> haproxy -> Zope, nginx rewriting to /Plone), a Document created through the REST API on one Zope client
and read back through another and through the frontend, and a rolling deploy of a new revision under traffic.

Runs last (tests/e2e/conftest.py): after test_cluster.py removed its app and test_plone_first.py brought it back as
the Zope app and switched it to Plone (the site created by that deploy); alone, its fixture makes the first Plone
deploy, site creation included.
Alone: pytest tests/e2e/test_cluster.py::test_converge tests/e2e/test_plone.py
"""

from __future__ import annotations

import copy
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, Cluster, Traffic, basic_auth, http

pytestmark = pytest.mark.e2e
SITE = "Plone"
DOMAIN = "site.test"          # the e2e app's domain (tests/e2e/Pulumi.e2e.yaml)


def request(url: str, *, host: str | None = None, data: dict | None = None, auth: str | None = None,
            method: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, data=json.dumps(data).encode() if data is not None else None, method=method)
    req.add_header("Accept", "application/json" if auth else "text/html")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if host:
        req.add_header("Host", host)
    if auth:
        req.add_header("Authorization", basic_auth(auth))
    return http(req, timeout=60)


@pytest.fixture(scope="module")
def plone(cluster: Cluster) -> dict[str, Any]:
    """App "site" as examples/plone with PLONE_SITE_ID, converged: the figures of the first Plone deploy."""
    assert cluster.fleet.state(), "run after test_cluster.py::test_converge"
    apps = cluster.config.setdefault("stackkit:apps", {})
    site = copy.deepcopy(cluster.base.config["stackkit:apps"]["site"])
    site["environment"] = {**site.get("environment", {}), "PLONE_SITE_ID": SITE}
    apps["site"] = site
    cluster.publish(ROOT / "examples/plone")
    t0 = time.monotonic()
    report = cluster.up()
    seconds = round(time.monotonic() - t0, 1)
    print(f"\nfigure plone_first_deploy_seconds: {seconds} ({len(report.commands())} scripts)")
    return {"seconds": seconds}


def test_the_front_page_answers_through_the_frontend(cluster: Cluster, plone: dict) -> None:
    deadline = time.monotonic() + 120
    status, body = 0, ""
    while time.monotonic() < deadline and status != 200:
        status, body = request(cluster.url(), host=DOMAIN)
        time.sleep(0 if status == 200 else 3)
    assert status == 200, body[:500]
    assert "portaltype-plone-site" in body and "<title>Plone" in body, body[:500]


def test_a_document_written_through_one_client_is_read_through_another_and_the_frontend(cluster: Cluster,
                                                                                       plone: dict) -> None:
    first, other = cluster.plone_instances()[0], cluster.plone_instances()[-1]
    assert first != other
    title = f"Written through {first} at {time.time():.0f}"
    status, body = request(f"http://{cluster.address(first)}:8081/{SITE}", auth=cluster.password,
                           data={"@type": "Document", "id": "probe", "title": title})
    assert status == 201, body[:500]
    status, body = request(f"http://{cluster.address(first)}:8081/{SITE}/probe/@workflow/publish",
                           auth=cluster.password, method="POST")
    assert status == 200, body[:500]
    status, body = request(f"http://{cluster.address(other)}:8081/{SITE}/probe", auth=cluster.password)
    assert status == 200 and json.loads(body)["title"] == title, body[:500]
    # anonymous, through nginx (rewritten to /Plone), varnish (a URL it has not cached) and haproxy
    status, body = request(cluster.url() + "probe", host=DOMAIN)
    assert status == 200 and f"<title>{title}" in body, body[:500]


def test_a_rolling_deploy_of_a_new_revision_under_traffic(cluster: Cluster, plone: dict, tmp_path: Path) -> None:
    cluster.publish_version("plone", "2", tmp_path)
    traffic = Traffic(cluster.url())
    traffic.start()
    report = cluster.up()
    traffic.stop()
    deployed = {i for i, e, _ in report.ran() if e == "deploy"}
    print(f"\nfigure plone_rolling_deploy: {{'seconds': {round(report.seconds, 1)}, 'requests': {traffic.sent}, "
          f"'failed': {traffic.failed}}}")
    assert deployed == set(cluster.plone_instances())
    assert traffic.failed == 0, f"{traffic.errors}\nruns: {report.timeline(traffic.t0)}\n{cluster.haproxy_log()}"
    for i in cluster.plone_instances():
        assert cluster.sh(i, "cat /srv/apps/site/current/VERSION").stdout == "2"
    status, _ = request(cluster.url() + "probe", host=DOMAIN)
    assert status == 200
