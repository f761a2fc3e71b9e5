"""Rendering of layer templates and scripts: jinja2 with StrictUndefined, errors that say where.

Pure: a template name and a context in, text out. A missing variable or a syntax error raises
`TemplateError` naming the template, the line, and the lines around it (as pyinfra does).
"""

from __future__ import annotations

import json
import os
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from stackkit.errors import TemplateError

LAYERS_DIR = Path(os.environ.get("STACKKIT_LAYERS_DIR") or Path(__file__).resolve().parent.parent.parent / "layers")


def _shquote(value: Any) -> str:
    return shlex.quote(str(value))


def _fail(message: str) -> str:
    """`{{ fail("...") }}` in a template: stop rendering with this message (raised with the template's name and line)."""
    raise jinja2.UndefinedError(message)


def _tojson_sorted(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, sort_keys=True, indent=indent)


@lru_cache(maxsize=4)
def environment(layers_dir: str = str(LAYERS_DIR)) -> jinja2.Environment:
    env = jinja2.Environment(
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
    env.filters["tojson"] = _tojson_sorted
    env.globals["fail"] = _fail
    return env


def render(template: str, context: dict[str, Any], layers_dir: Path = LAYERS_DIR) -> str:
    """Render `template` (a path relative to layers/, e.g. 'frontend/haproxy.cfg.j2') with `context`."""
    env = environment(str(layers_dir))
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
