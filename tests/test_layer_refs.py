"""What a layer file reads (stackkit.lifecycle.refs), and the template tags it may not use: the instance renders each
file from its own source alone, so a file that names another one is refused at plan time, naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackkit.errors import TemplateError
from stackkit.lifecycle import refs

READS = [
    ("x.conf.j2", "{{ attrs.plone.threads }} {{ attrs['frontend']['ttl'] }}\n",
     {("plone", "threads"), ("frontend", "ttl")}, set()),
    ("x.conf.j2", "{% for k in attrs %}{{ k }}{% endfor %}\n", set(), {"attrs"}),
]

REFUSED = [
    ("x.conf.j2", "a\n{% include 'other.j2' %}\n", 2, "{% include %}"),
    ("x.sh.j2", "{% import 'macros.j2' as m %}\n", 1, "{% import %}"),
    ("x.conf.j2", "\n\n{% from 'macros.j2' import f %}\n", 3, "{% from ... import %}"),
    ("x.conf.j2", "{% extends 'base.j2' %}\n", 1, "{% extends %}"),
]


@pytest.mark.parametrize(("name", "text", "paths", "whole"), READS)
def test_reads(tmp_path: Path, name: str, text: str, paths: set[tuple[str, ...]], whole: set[str]) -> None:
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / name).write_text(text)
    got = refs.reads(tmp_path, f"l/{name}")
    assert got.paths["attrs"] == paths and got.whole == whole


@pytest.mark.parametrize(("name", "text", "line", "tag"), REFUSED)
def test_a_file_that_names_another_is_refused(tmp_path: Path, name: str, text: str, line: int, tag: str) -> None:
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / name).write_text(text)
    with pytest.raises(TemplateError) as err:
        refs.reads(tmp_path, f"l/{name}")
    assert str(err.value).startswith(f"layers/l/{name}:{line}: {tag} is not supported"), err.value
    assert "write its text into this file" in str(err.value)
