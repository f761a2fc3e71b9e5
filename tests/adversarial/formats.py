"""Reading back the files a bundle wrote, each the way its daemon reads it: the shape (directives, keys, sections) to
compare with the baseline's, and the values that must come back exactly (app.env, libpq dsn, nginx server_name)."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from typing import Any


class Unreadable(Exception):
    """The daemon would refuse (or misread) the file: unbalanced quotes, a broken block..."""


def nginx_directives(text: str) -> list[tuple[int, str, list[str], str]]:
    """nginx's own lexer, simplified: (depth, name, args, ';' or '{') per directive; quotes and backslashes as nginx."""
    out: list[tuple[int, str, list[str], str]] = []
    words: list[str] = []
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in ";{":
            if not words:
                raise Unreadable(f"unexpected {c!r}")
            out.append((depth, words[0], words[1:], c))
            words = []
            depth += c == "{"
            i += 1
        elif c == "}":
            if words or depth == 0:
                raise Unreadable("unexpected '}'")
            depth -= 1
            i += 1
        elif c in "'\"":
            j, word = i + 1, ""
            while j < n and text[j] != c:
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                word += text[j]
                j += 1
            if j >= n:
                raise Unreadable("unbalanced quote")
            words.append(word)
            i = j + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in ";{}" and not (text[j] in "'\"" and j == i):
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                j += 1
            words.append(text[i:j].replace("\\", ""))
            i = j
    if words or depth:
        raise Unreadable("unterminated directive or block")
    return out


def nginx(text: str) -> list[Any]:
    return [(d, name, kind) for d, name, _, kind in nginx_directives(text)]


def haproxy(text: str) -> list[Any]:
    out = []
    for line in text.splitlines():
        lex = shlex.shlex(line, posix=True)
        lex.whitespace_split = True
        lex.commenters = "#"
        try:
            words = list(lex)
        except ValueError as exc:
            raise Unreadable(f"{line!r}: {exc}") from None
        if words:
            out.append((words[0], len(words)))
    return out


_VCL = re.compile(r'\{".*?"\}|"[^"\n]*"|/\*.*?\*/|//[^\n]*|#[^\n]*|\d+(\.\d+)?[a-z]*|[A-Za-z_][\w.-]*|\S', re.S)


def vcl(text: str) -> list[str]:
    out = []
    for m in _VCL.finditer(text):
        tok = m.group(0)
        if tok.startswith(("/*", "//", "#")):
            continue
        if tok.startswith(('"', '{"')):
            out.append("str")
        elif tok[0].isdigit():
            out.append("num")
        elif tok[0].isalpha() or tok[0] == "_":
            out.append("id")
        else:
            out.append(tok)
    return out


def _logical_lines(text: str) -> list[str]:
    lines, cur = [], ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            cur += raw[:-1] + " "
            continue
        lines.append(cur + raw)
        cur = ""
    if cur:
        lines.append(cur)
    return lines


def systemd(text: str) -> list[Any]:
    """systemd.syntax(7): sections and keys; an Exec*= command line's words (systemd.service(5) quoting, as shlex)."""
    out: list[Any] = []
    section = ""
    for line in _logical_lines(text):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        if s.startswith("[") and s.endswith("]"):
            section = s
            out.append(section)
            continue
        if "=" not in s:
            raise Unreadable(f"not a key=value line: {s[:80]!r}")
        key, value = (p.strip() for p in s.split("=", 1))
        if key.startswith("Exec") and value:
            try:
                out.append((section, key, len(shlex.split(value))))
            except ValueError as exc:
                raise Unreadable(f"{key}: {exc}") from None
        else:
            out.append((section, key))
    return out


def ini(text: str) -> list[Any]:
    out: list[Any] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip()[0] in "#;":
            continue
        if line[0].isspace():
            out.append("continuation")
        elif line.startswith("["):
            out.append(line.strip())
        elif "=" in line:
            out.append(line.split("=", 1)[0].strip())
        else:
            raise Unreadable(f"not a key = value line: {line[:80]!r}")
    return out


def zconfig(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        out.append(s.split(">")[0] + ">" if s.startswith("<") else s.split()[0])
    return out


def lines(text: str) -> list[str]:
    return [s.split()[0] for s in (ln.strip() for ln in text.splitlines()) if s and not s.startswith("#")]


def fstab(text: str) -> list[int]:
    return [len(ln.split()) for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def env_file(text: str) -> dict[str, str]:
    """systemd's EnvironmentFile= parser (src/basic/env-file.c, parse_env_file_internal), as a state machine."""
    out: dict[str, str] = {}
    state, key, value = "pre_key", "", ""
    text += "\n"
    for c in text:
        if state == "pre_key":
            if c in "#;":
                state = "comment"
            elif not c.isspace():
                state, key = "key", c
        elif state == "comment":
            if c == "\\":
                state = "comment_escape"
            elif c in "\r\n":
                state = "pre_key"
        elif state == "comment_escape":
            state = "comment"
        elif state == "key":
            if c in "\r\n":
                state, key = "pre_key", ""
            elif c == "=":
                state, value = "pre_value", ""
                key = key.strip()
            else:
                key += c
        elif state == "pre_value":
            if c in "\r\n":
                out[key] = value
                state, key = "pre_key", ""
            elif c == "'":
                state = "single"
            elif c == '"':
                state = "double"
            elif c == "\\":
                state = "value_escape"
            elif not c.isspace():
                state, value = "value", value + c
        elif state == "value":
            if c in "\r\n":
                out[key] = value.rstrip()
                state, key = "pre_key", ""
            elif c == "\\":
                state = "value_escape"
            else:
                value += c
        elif state == "value_escape":
            state = "value"
            if c != "\n":
                value += c
        elif state == "single":
            if c == "'":
                state = "pre_value"
            else:
                value += c
        elif state == "double":
            if c == '"':
                state = "pre_value"
            elif c == "\\":
                state = "double_escape"
            else:
                value += c
        elif state == "double_escape":
            state = "double"
            if c in '"\\`$':
                value += c
            elif c != "\n":
                value += "\\" + c
    if state not in ("pre_key", "comment"):
        raise Unreadable(f"unterminated value of {key!r}")
    return out


def env(text: str) -> str:
    """Readable by systemd's rules; its exact keys and values are checked against the config (corpus.value_checks)."""
    env_file(text)
    return "env"


def libpq_conninfo(text: str) -> dict[str, str]:
    """libpq's keyword/value connection string (PostgreSQL docs 34.1.1.1): values single-quoted with \\' and \\\\."""
    out: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        j = text.find("=", i)
        if j < 0:
            raise Unreadable(f"missing '=' after {text[i:i + 20]!r}")
        key = text[i:j].strip()
        i = j + 1
        while i < n and text[i].isspace():
            i += 1
        value = ""
        if i < n and text[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise Unreadable("unterminated quoted value")
                if text[i] == "\\" and i + 1 < n:
                    value += text[i + 1]
                    i += 2
                elif text[i] == "'":
                    i += 1
                    break
                else:
                    value += text[i]
                    i += 1
        else:
            while i < n and not text[i].isspace():
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value += text[i]
                i += 1
        if key in out:
            raise Unreadable(f"{key} given twice")
        out[key] = value
    return out


_ZSUB = re.compile(r"\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def zconfig_value(text: str, defines: dict[str, str]) -> str:
    """A ZConfig value after its substitutions (ZConfig.substitution): `$$` is `$`, `$name` / `${name}` a %define."""
    def sub(m: re.Match[str]) -> str:
        if m.group(1) == "$":
            return "$"
        name = (m.group(2) or m.group(3)).lower()
        if name not in defines:
            raise Unreadable(f"ZConfig: undefined substitution ${name}")
        return defines[name]
    if re.search(r"\$(?![$A-Za-z_{])", text):
        raise Unreadable("ZConfig: a lone '$'")
    return _ZSUB.sub(sub, text)


def dsn(zope_conf: str) -> dict[str, str] | None:
    """The RelStorage dsn as the database driver gets it: ZConfig substitutions first, then libpq's rules."""
    defines: dict[str, str] = {}
    for line in zope_conf.splitlines():
        s = line.strip()
        if s.startswith("%define "):
            name, _, value = s[len("%define "):].partition(" ")
            defines[name.lower()] = zconfig_value(value.strip(), defines)
        if s.startswith("dsn "):
            return libpq_conninfo(zconfig_value(s[4:], defines))
    return None


def server_names(nginx_conf: str) -> list[list[str]]:
    return [args for _, name, args, _ in nginx_directives(nginx_conf) if name == "server_name" and args != ["_"]]


def json_(text: str) -> str:
    try:
        json.loads(text)
    except ValueError as exc:
        raise Unreadable(str(exc)) from None
    return "json"


def python(text: str) -> str:
    """A Python file's syntax tree: a payload that changed its code would change it."""
    import ast
    try:
        return ast.dump(ast.parse(text))
    except SyntaxError as exc:
        raise Unreadable(str(exc)) from None


def whole(text: str) -> str:
    return "pem" if text.strip() else "empty"


SHAPES: dict[str, Callable[[str], Any]] = {
    "nginx": nginx, "haproxy": haproxy, "vcl": vcl, "systemd": systemd, "ini": ini, "zconfig": zconfig,
    "lines": lines, "fstab": fstab, "env": env, "json": json_, "pem": whole, "script": lines,
    "python": python,
}
