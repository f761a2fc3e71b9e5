"""The renderer escapes for the format a value lands in: bash words in `*.sh.j2`, plain tokens or a format filter in
daemon configs. Each row renders a one-line template from a temporary layers dir and checks what came out."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stackkit.errors import TemplateError
from stackkit.lifecycle.render import render

HOSTILE = ["a'b", 'a"b', "$(echo pwned)", "`id`", "a;b", "a\nb", "}{", "SK_EOF_x", "%s", "--opt", "$HOME", "a\\b",
           "pässwort", " lead", ""]


@pytest.fixture()
def layers(tmp_path: Path) -> Path:
    (tmp_path / "t").mkdir()
    return tmp_path


def _render(layers: Path, name: str, body: str, **ctx: object) -> str:
    (layers / "t" / name).write_text(body)
    return render(f"t/{name}", ctx, layers_dir=layers)


@pytest.mark.parametrize("value", HOSTILE)
def test_every_shell_value_is_one_literal_word(layers: Path, value: str) -> None:
    script = _render(layers, "x.sh.j2", "printf '%s' {{ v }}\n", v=value)
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == value


def test_shquote_spelled_out_is_not_quoted_twice(layers: Path) -> None:
    assert _render(layers, "y.sh.j2", "{{ v | shquote }}", v="a b") == "'a b'"


def test_none_never_reaches_a_script(layers: Path) -> None:
    with pytest.raises(TemplateError, match="None reached a template"):
        _render(layers, "n.sh.j2", "echo {{ v }}", v=None)


@pytest.mark.parametrize("value", ["a;b", "a b", "a\nb", "}", "{", "#x", '"', "'", "$x", "%d", "a\\b"])
def test_a_config_template_refuses_what_is_not_a_plain_token(layers: Path, value: str) -> None:
    with pytest.raises(TemplateError, match="not a plain token"):
        _render(layers, "c.conf.j2", "key {{ v }};\n", v=value)


@pytest.mark.parametrize("value", ["64m", "/stackkit-health", "10.0.0.5:8100", "www.example.org", 42, "*.example.org"])
def test_a_config_template_takes_plain_tokens(layers: Path, value: object) -> None:
    assert _render(layers, "c.conf.j2", "key {{ v }};", v=value) == f"key {value};"


@pytest.mark.parametrize(("value", "rendered"), [
    ("S3cr3t\\pw!", r"'S3cr3t\\pw!'"),
    ("it's", r"'it\'s'"),
    ("plain", "'plain'"),
])
def test_libpq_values_are_quoted_and_escaped(layers: Path, value: str, rendered: str) -> None:
    assert _render(layers, "d.conf.j2", "{{ v | libpq }}", v=value) == rendered


@pytest.mark.parametrize(("value", "rendered"), [
    ('Tr0ub4dor"&3', r'"Tr0ub4dor\"&3"'),
    ("$HOME`id`\\", r'"\$HOME\`id\`\\"'),
    ("two\nlines", '"two\nlines"'),
])
def test_systemd_env_values_are_double_quoted_and_escaped(layers: Path, value: str, rendered: str) -> None:
    assert _render(layers, "e.env.j2", "X={{ v | systemd_env }}", v=value) == f"X={rendered}"


def test_systemd_unit_values_double_percent_and_refuse_newlines(layers: Path) -> None:
    assert _render(layers, "u.j2", "OnCalendar={{ v | systemd_value }}", v="*-*-* 02:30:00 %") == \
        "OnCalendar=*-*-* 02:30:00 %%"
    with pytest.raises(TemplateError, match="control character"):
        _render(layers, "u.j2", "OnCalendar={{ v | systemd_value }}", v="daily\nExecStartPre=/bin/id")


def test_zconfig_values_double_dollars_and_refuse_newlines(layers: Path) -> None:
    assert _render(layers, "z.conf.j2", "passwd {{ v | zconfig }}", v="a$b'c") == "passwd a$$b'c"
    with pytest.raises(TemplateError, match="control character"):
        _render(layers, "z.conf.j2", "passwd {{ v | zconfig }}", v="a\n%import evil")
