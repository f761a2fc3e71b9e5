"""Generated docs stay current: docs/layers.md from the layers' metadata, README's production graph from the stack."""

from __future__ import annotations

import re

from stackkit.config.stackfile import read_stack_file
from stackkit.docs import generated
from stackkit.graph import _load_file, graph
from stackkit.paths import ROOT


def test_generated_docs_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p, text in generated().items() if p.read_text() != text]
    assert stale == [], f"run `python -m stackkit docs` to regenerate {stale}"


def _edges(text: str) -> set[tuple[str, str, str]]:
    return {(a, label, b) for a, label, b in re.findall(r"^\s+(\w+) -->\|([^|]*)\| (\w+)$", text, re.M)}


def test_production_graph_shows_who_talks_to_whom() -> None:
    text = graph(_load_file(ROOT / "Pulumi.production.yaml"))
    edges = _edges(text)
    assert ("internet", "80", "alb_frontend") in edges
    assert ("alb_frontend", "80, 443", "layer_frontend") in edges
    assert not any(a == "internet" and b == "layer_frontend" for a, _, b in edges), "behind its balancer only"
    assert any(a == "layer_frontend" and b == "layer_plone" for a, _, b in edges)
    assert any(a == "layer_plone" and b == "layer_zeoserver" and "8100" in lab for a, lab, b in edges)
    assert not any(b == "layer_zeoserver" and a in ("internet", "layer_frontend") for a, _, b in edges)
    for name in read_stack_file(ROOT / "Pulumi.production.yaml").config["stackkit:instances"]:
        assert f'["{name}<br/>' in text


def test_relstorage_graph_has_the_database_and_its_only_user() -> None:
    text = graph(_load_file(ROOT / "examples/Pulumi.relstorage.yaml"))
    edges = _edges(text)
    assert {(a, b) for a, _, b in edges if b == "db_zodb"} == {("layer_plone", "db_zodb")}
    assert 'db_zodb[("RDS postgres zodb")]' in text
