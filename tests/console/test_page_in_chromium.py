"""The console page of tests/console/staging.json opened in headless Chromium: what a browser shows of it (the e2e
test tests/e2e/test_plone_first.py does the same for a converged cluster)."""

from __future__ import annotations

import json
from pathlib import Path

from stackkit.console.model import build
from stackkit.console.page import write
from tests.console.chromium import dom_text, screenshot

HERE = Path(__file__).parent


def test_the_page_in_chromium(tmp_path: Path) -> None:
    data = json.loads((HERE / "staging.json").read_text())
    page = write(build(data["export"]["deployment"], data["outputs"], data["since"]), tmp_path / "console")
    text = dom_text(page)
    for seen in ("Stack staging", "frontend web1 frontend-alb-123.eu-west-1.elb.amazonaws.com",
                 "web1 running t3.small eu-west-1a 10.30.0.5 198.51.100.7", "app1 v1.2.0",
                 "stackkit: setup of web1 installed nginx varnish haproxy <b>&amp;",
                 "db1 no record a new instance: its first configure"):
        assert seen in text, text[:3000]
    assert "hunter2" not in text
    png = screenshot(page, tmp_path / "console.png")
    print(f"\nscreenshot: {png} ({png.stat().st_size} bytes)")
