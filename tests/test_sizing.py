"""Sizing reaches the frontends from each plone instance's own attributes: haproxy's per-server maxconn is that
instance's plone.threads wherever it is set, and `plone.clients: auto` never exceeds the 18 ports its security group
opens. Rows: (where threads is set, instance type of app1) -> maxconn and server count for app1 in web1's haproxy.cfg."""

from __future__ import annotations

import copy
import re

import pytest

from stackkit.config.stackfile import StackFile
from stackkit.plan.evaluate import evaluate
from tests.conftest import staged

ROWS = [
    # threads set at (instance = app1 only), app1 type, maxconn on app1's servers, app1 servers, maxconn on app2's
    ({"stack": None, "layer": None, "instance": None}, "t3.small", 2, None, 2),
    ({"layer": 4}, "t3.small", 4, None, 4),                    # was 2: the frontend read only its own attributes
    ({"stack": 3, "instance": 6}, "t3.small", 6, None, 3),
    ({"stack": None}, "c5.12xlarge", 2, 18, 2),                # 48 vCPUs, auto: capped at the 18 opened ports
]


def _haproxy(sf: StackFile, where: dict, app1_type: str) -> str:
    config = copy.deepcopy(sf.config)
    plone = {"clients": "auto"}
    for level, threads in where.items():
        if threads is None:
            continue
        target = {"stack": config["stackkit:stack"], "layer": config["stackkit:layers"]["plone"],
                  "instance": config["stackkit:instances"]["app1"]}[level]
        target.setdefault("attributes", {}).setdefault("plone", {})["threads"] = threads
    config["stackkit:instances"]["app1"]["type"] = app1_type
    config["stackkit:instances"]["app1"].setdefault("attributes", {}).setdefault("plone", {}).update(plone)
    plan = evaluate(StackFile(path=sf.path, config=config, secret_keys=sf.secret_keys, placeholders=sf.placeholders))
    return staged(plan)["web1-configure"]["/etc/haproxy/haproxy.cfg"]


@pytest.mark.parametrize(("where", "app1_type", "maxconn", "servers", "app2_maxconn"), ROWS)
def test_maxconn_and_backends_follow_each_plone_instance(stack_files: dict[str, StackFile], where: dict,
                                                         app1_type: str, maxconn: int, servers: int | None,
                                                         app2_maxconn: int) -> None:
    cfg = _haproxy(stack_files["production"], where, app1_type)
    lines = re.findall(r"^\s+server (app1-\d+) \S+ check maxconn (\d+)", cfg, re.M)
    assert lines, cfg
    assert {int(m) for _, m in lines} == {maxconn}
    if servers is not None:
        assert len(lines) == servers
    # another plone instance keeps its own threads
    assert set(re.findall(r"^\s+server app2-\d+ \S+ check maxconn (\d+)", cfg, re.M)) == {str(app2_maxconn)}
