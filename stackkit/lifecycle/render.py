"""Rendering of layer templates and scripts: jinja2 with StrictUndefined, errors that say where.

Pure: a template name and a context in, text out. A missing variable or a syntax error raises
`TemplateError` naming the template, the line, and the lines around it (as pyinfra does).

Every value is escaped for the format it lands in, by the environment, not by each template remembering to:
- bash (`*.sh.j2`): every `{{ … }}` is shell-quoted (`finalize`), so a value is always one word and never code.
  Write `{{ x }}`, never `"{{ x }}"` (the quotes would become part of the value); `{{ x | shquote }}` is the same
  thing spelled out.
- daemon configs (every other template): a `{{ … }}` must be a number, a boolean, or a string of plain token
  characters (`CONFIG_TOKEN`: no whitespace, quotes, `;`, braces, `#`, `%`, `$`, backslash); anything else must go through
  a filter made for that format (`libpq`, `systemd_env`, `systemd_value`, `zconfig`), which marks it escaped. A value
  that is neither stops the render naming the template and line, so a template can never write an unescaped value. Values
  are first validated at load (stackkit.config), with the config path; this is the second line of defence.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from stackkit.errors import TemplateError
from stackkit.paths import layers_dir as current_layers


class Escaped(str):
    """Text already escaped for the format it is rendered into: `finalize` passes it through unchanged."""


# what a daemon config may receive unescaped: words, numbers, addresses, paths, sizes, host names, lists of them
CONFIG_TOKEN = re.compile(r"^[A-Za-z0-9_.,:/@*+=~!-]*$")


def _shquote(value: Any) -> Escaped:
    return Escaped(shlex.quote(_text(value)))


def _text(value: Any) -> str:
    if value is None:
        raise jinja2.UndefinedError("None reached a template: test it with `{% if … %}` first")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _shell_finalize(value: Any) -> str:
    if isinstance(value, Escaped):
        return value
    return shlex.quote(_text(value))


def _config_finalize(value: Any) -> str:
    if isinstance(value, Escaped):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = _text(value)
    if not CONFIG_TOKEN.fullmatch(text):
        raise jinja2.UndefinedError(
            f"the value {text[:60]!r} is not a plain token and reached a config file unescaped: validate it at load "
            "or render it through the filter made for this file's format "
            "(libpq, systemd_env, systemd_value, zconfig)")
    return text


def _libpq(value: Any) -> Escaped:
    r"""A libpq conninfo value: single-quoted, `\\` and `'` backslash-escaped (PostgreSQL docs, 34.1.1.1)."""
    text = _text(value)
    return Escaped("'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'")


def _systemd_env(value: Any) -> Escaped:
    r"""A value of a systemd EnvironmentFile line: double-quoted, with `\\ " $ \``  escaped (systemd.exec(5),
    EnvironmentFile=); a newline stays a newline inside the quotes."""
    text = _text(value)
    for ch in ("\\", '"', "$", "`"):
        text = text.replace(ch, "\\" + ch)
    return Escaped('"' + text + '"')


def _systemd_value(value: Any) -> Escaped:
    """A value in a systemd unit file (one line): no control characters; `%` doubled (unit specifiers), `\\` doubled."""
    text = _text(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise jinja2.UndefinedError(f"{text[:60]!r} holds a control character: it cannot be a systemd unit value")
    return Escaped(text.replace("\\", "\\\\").replace("%", "%%"))


def _zconfig(value: Any) -> Escaped:
    """A ZConfig value (zope.conf, zeo.conf): one line, `$` doubled (ZConfig substitutes `$name`)."""
    text = _text(value)
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise jinja2.UndefinedError(f"{text[:60]!r} holds a control character: it cannot be a ZConfig value")
    return Escaped(text.replace("$", "$$"))


def _fail(message: str) -> str:
    """`{{ fail("...") }}` in a template: stop rendering with this message (raised with the template's name and line)."""
    raise jinja2.UndefinedError(message)


def _tojson_sorted(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, sort_keys=True, indent=indent)


def is_shell(template: str) -> bool:
    """Shell templates: the lifecycle scripts and any template installed as a script (`*.sh.j2`)."""
    return template.endswith(".sh.j2")


@lru_cache(maxsize=8)
def environment(layers_dir: str, shell: bool = True) -> jinja2.Environment:
    env = jinja2.Environment(
        finalize=_shell_finalize if shell else _config_finalize,
        loader=jinja2.FileSystemLoader(layers_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        # bash uses `${#array[@]}`: Jinja comments are `{## ... ##}` here
        comment_start_string="{##",
        comment_end_string="##}",
    )
    env.filters["shquote"] = _shquote
    env.filters["libpq"] = _libpq
    env.filters["systemd_env"] = _systemd_env
    env.filters["systemd_value"] = _systemd_value
    env.filters["zconfig"] = _zconfig
    env.filters["tojson"] = _tojson_sorted
    env.globals["fail"] = _fail
    return env


def render(template: str, context: dict[str, Any], layers_dir: Path | None = None) -> str:
    """Render `template` (a path relative to layers/, e.g. 'frontend/haproxy.cfg.j2') with `context`."""
    layers_dir = layers_dir or current_layers()
    env = environment(str(layers_dir), is_shell(template))
    try:
        return env.get_template(template).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        name = str(exc.name or template)
        name = name.split(str(layers_dir).rstrip("/") + "/", 1)[-1]
        raise TemplateError(_where(layers_dir, name, exc.lineno, exc.message or str(exc))) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(_where(layers_dir, template, _line_of(exc, template), str(exc))) from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"layers/{template}: template not found ({exc})") from None


def _line_of(exc: BaseException, template: str) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(template) or code.co_filename == f"<template {template}>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _where(layers_dir: Path, template: str, lineno: int | None, message: str) -> str:
    head = f"layers/{template}:{lineno or '?'}: {message}"
    if not lineno:
        return head
    try:
        lines = (layers_dir / template).read_text().splitlines()
    except OSError:
        return head
    lo, hi = max(lineno - 3, 0), min(lineno + 2, len(lines))
    around = "\n".join(f"{'>' if i + 1 == lineno else ' '} {i + 1:4d} | {lines[i]}" for i in range(lo, hi))
    return f"{head}\n{around}"
