"""The adversarial corpus as cases: where each field lives in a shipped stack, how a payload is patched in, and what
happens to it (refused at load, or rendered and run on the stand-in host), judged from outcomes only."""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import os
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from stackkit.config.load import Loaded, load
from stackkit.config.stackfile import StackFile
from stackkit.errors import ConfigError
from tests.adversarial import formats, sandbox
from tests.adversarial.fields import TOP, Field
from tests.conftest import staged_files
from tests.test_config_errors import patched

HERE = Path(__file__).parent
CORPUS = YAML(typ="safe").load((HERE / "payloads.yaml").read_text())
FULL = os.environ.get("SK_ADVERSARIAL_FULL") == "1"


@dataclass(frozen=True)
class Payload:
    name: str
    value: str
    exec: bool


PAYLOADS = [Payload(p["name"], p["value"] if "value" in p else p["repeat"]["text"] * p["repeat"]["times"],
                    bool(p.get("exec"))) for p in CORPUS["payloads"]]


def _segments(pattern: str) -> list[str]:
    return [s for s in re.split(r"\.|(?=\[)", pattern) if s]


@dataclass
class Target:
    """Where a field is patched: a base stack (with a scaffold, maybe) and the concrete paths the payload goes to."""

    base: str
    scaffold: int | None
    paths: list[str]                     # 'stackkit:apps.site.environment.PLONE_SITE_ID'
    rename: bool = False                 # the payload is a key: paths[0] is the mapping it is added to

    @property
    def named(self) -> list[str]:
        """The config paths a refusal may name (without the stack file's namespace)."""
        return [p.split(":", 1)[1] if p.startswith("stackkit:") else p for p in self.paths]


def scaffolded(files: dict[str, StackFile], idx: int | None, base: str) -> tuple[dict[str, Any], set[str]]:
    if idx is None:
        sf = files[base]
        return copy.deepcopy(sf.config), set(sf.secret_keys)
    sc = CORPUS["scaffolds"][idx]
    config, secret = patched({"base": sc["base"], "set": sc["set"], "secret": sc.get("secret") or []}, files)
    return copy.deepcopy(config), secret


def concrete(config: dict[str, Any], segs: list[str], create: bool) -> str | None:
    """A concrete path for `segs` in `config`: `*` = a key there (the first that fits), `[*]` = item 0; only the last
    segment may be missing (any named one too, with `create`)."""
    def walk(cur: Any, rest: list[str], out: str) -> str | None:
        if not rest:
            return out
        seg, last = rest[0], len(rest) == 1
        if seg == "[*]":
            if isinstance(cur, list) and cur:
                return walk(cur[0], rest[1:], out + "[0]")
            return walk(None, rest[1:], out + "[0]") if last or create else None
        if seg == "*":
            if not isinstance(cur, dict):
                return None
            for key in sorted(cur):
                found = walk(cur[key], rest[1:], f"{out}.{key}")
                if found is not None:
                    return found
            return None
        if isinstance(cur, dict) and seg in cur:
            return walk(cur[seg], rest[1:], f"{out}.{seg}")
        if (cur is None or isinstance(cur, dict)) and (last or create):
            return walk(None, rest[1:], f"{out}.{seg}")
        return None
    top = TOP[segs[0]]
    return walk(config.get(top), segs[1:], top)


def target(f: Field, files: dict[str, StackFile], loaded: dict[str, Loaded]) -> Target | None:
    bases = CORPUS["bases"]
    if f.kind == "attribute":
        dotted = f.path.split(":", 1)[1]
        for b in bases:
            if any(_lookup(a, dotted) is not _MISSING for a in loaded[b].attrs.values()):
                cfg = files[b].config
                paths = [f"stackkit:stack.attributes.{dotted}"]
                for top in ("layers", "instances"):
                    for name, settings in sorted((cfg.get(f"stackkit:{top}") or {}).items()):
                        if _lookup((settings or {}).get("attributes") or {}, dotted) is not _MISSING:
                            paths.append(f"stackkit:{top}.{name}.attributes.{dotted}")
                return Target(b, None, paths)
        return None
    segs = _segments(f.path)
    for create in (False, True):
        for b in bases:
            options: list[tuple[int | None, str]] = [(None, b)]
            options += [(i, sc["base"]) for i, sc in enumerate(CORPUS["scaffolds"])
                        if sc["base"] == b and any(f.path == p or f.path.startswith(p + ".") or f.path.startswith(p + "[")
                                                   or fnmatch.fnmatch(f.path, p) for p in sc["fields"])]
            for idx, base in reversed(options):
                config, _ = scaffolded(files, idx, base)
                path = concrete(config, segs, create)
                if path is not None:
                    return Target(base, idx, [path], rename=f.kind == "key")
    return None


_MISSING = object()


def _lookup(d: dict[str, Any], dotted: str) -> Any:
    cur: Any = d
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _set(config: dict[str, Any], path: str, value: Any) -> None:
    top, _, rest = path.partition(".") if not path.startswith("aws:") else (path, "", "")
    if ":" in top and "." in path and not path.startswith("aws:"):
        top, rest = path.split(".", 1)[0], path.split(".", 1)[1]
    if not rest:
        config[top] = value
        return
    parts: list[str | int] = [int(i) if i else k for k, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", rest)]
    cur = config.setdefault(top, {})
    for p in parts[:-1]:
        if isinstance(p, int):
            cur = cur[p]
        else:
            if not isinstance(cur.get(p), (dict, list)):
                cur[p] = {}
            cur = cur[p]
    last = parts[-1]
    if isinstance(last, int):
        if not isinstance(cur, list):
            raise TypeError(path)
        if last < len(cur):
            cur[last] = value
        else:
            cur.append(value)
    else:
        cur[last] = value


def _get(config: dict[str, Any], path: str) -> Any:
    top, _, rest = path.partition(".")
    cur: Any = config.get(top)
    for k, i in re.findall(r"([^.\[\]]+)|\[(\d+)\]", rest):
        if cur is None:
            return None
        cur = cur[int(i)] if i else cur.get(k)
    return cur


def patch(t: Target, files: dict[str, StackFile], value: str) -> tuple[dict[str, Any], set[str]]:
    config, secret = scaffolded(files, t.scaffold, t.base)
    if t.rename:
        # the payload as one more key, holding a copy of the first entry (the others stay as they were)
        mapping = _get(config, t.paths[0])
        entry = copy.deepcopy(mapping[sorted(mapping)[0]]) if isinstance(mapping, dict) and mapping else "x"
        _set(config, t.paths[0], {**(mapping if isinstance(mapping, dict) else {}), value: entry})
    else:
        for path in t.paths:
            if path.endswith("[0]") and not isinstance(_get(config, path.rsplit("[", 1)[0]), list):
                _set(config, path.rsplit("[", 1)[0], [value])
            else:
                _set(config, path, value)
    return config, secret


# --- outcomes ------------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    field: str
    payload: str
    kind: str = ""                 # refused | render-refused | unreached | rendered | executed | failed
    problems: list[str] = field(default_factory=list)


def file_format(path: str) -> str | None:
    for pattern, fmt in CORPUS_HOST_FILES.items():
        if fnmatch.fnmatch(path, pattern):
            return str(fmt)
    return None


CORPUS_HOST_FILES: dict[str, str] = sandbox.HOST["files"]


def shape(fmt: str, text: str) -> Any:
    try:
        return formats.SHAPES[fmt](text)
    except formats.Unreadable as exc:
        return f"unreadable: {exc}"


def compare_files(base: dict[str, str], got: dict[str, str], where: str) -> list[str]:
    """The files of a payload's run against the baseline's: same files, each with the baseline's shape."""
    out = []
    for path in sorted(set(base) | set(got)):
        fmt = file_format(path)
        if fmt == "ignore":
            continue
        if fmt is None:
            out.append(f"{where}: wrote {path}, a file no layer writes (host.yaml files)")
            continue
        if path not in got:
            out.append(f"{where}: did not write {path} (the baseline did)")
            continue
        if path not in base:
            out.append(f"{where}: wrote {path} (the baseline did not)")
            continue
        a, b = shape(fmt, base[path]), shape(fmt, got[path])
        if a != b:
            out.append(f"{where}: {path} ({fmt}) changed shape: {_diff(a, b)}")
    return out


def _diff(a: Any, b: Any) -> str:
    if isinstance(a, list) and isinstance(b, list):
        extra = [x for x in b if x not in a][:3]
        gone = [x for x in a if x not in b][:3]
        return f"{len(a)} -> {len(b)} items; new {extra}; gone {gone}"
    return f"{str(a)[:120]} -> {str(b)[:120]}"


def value_checks(loaded: Loaded, files: dict[str, str], calls: list[sandbox.Call] | None, instance: str) -> list[str]:
    """Values that must come back exactly as configured, read the way their consumer reads them (`calls`: the commands
    a run made, None for files only staged, not run)."""
    cfg = loaded.config
    out = []
    apps = cfg.instance_apps(instance)
    env_text = files.get("/etc/stackkit/plone/app.env")
    if env_text is not None and apps:
        app = cfg.apps[apps[0]]
        want = {**app.environment, **{k: v.get_secret_value() for k, v in app.secret_environment.items()}}
        try:
            got = formats.env_file(env_text)
            if got != want:
                bad = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
                out.append(f"app.env read as systemd reads it differs from the config at {bad}: "
                           f"{[(k, got.get(k, '<missing>')[:60]) for k in bad][:3]}")
        except formats.Unreadable as exc:
            out.append(f"app.env unreadable by systemd's rules: {exc}")
    zope = files.get("/etc/stackkit/plone/zope.conf")
    if zope is not None:
        try:
            dsn = formats.dsn(zope)
        except formats.Unreadable as exc:
            out.append(f"zope.conf dsn unreadable by libpq's rules: {exc}")
            dsn = None
        if dsn is not None:
            app = cfg.apps[apps[0]]
            db = cfg.resources.databases[app.data_source or ""]
            want_dsn = {"dbname": db.name, "user": db.username, "password": db.password.get_secret_value()}
            got_dsn = {k: dsn.get(k) for k in want_dsn}
            if got_dsn != want_dsn or set(dsn) - {"dbname", "user", "host", "port", "password"}:
                out.append(f"zope.conf dsn read as libpq reads it: keys {sorted(dsn)}, "
                           f"{[k for k in want_dsn if got_dsn[k] != want_dsn[k]]} differ from the config")
    nginx = files.get("/etc/nginx/nginx.conf")
    if nginx is not None:
        try:
            names = formats.server_names(nginx)
            want_names = [list(a.domains) for _, a in sorted(cfg.apps.items()) if a.domains]
            if [n for n in names if n not in want_names] or any(w not in names for w in want_names):
                out.append(f"nginx server_name tokens {names} are not the configured domains {want_names}")
        except formats.Unreadable as exc:
            out.append(f"nginx.conf unreadable: {exc}")
    for name, a in sorted(cfg.apps.items()):
        if a.ssl is None:
            continue
        crt, key = files.get(f"/etc/ssl/stackkit/{name}.crt"), files.get(f"/etc/ssl/stackkit/{name}.key")
        if crt is not None and crt.strip() != "\n".join(x.strip() for x in (a.ssl.certificate, a.ssl.chain or "") if x.strip()):
            out.append(f"/etc/ssl/stackkit/{name}.crt is not the configured certificate (+ chain)")
        if key is not None and key.strip() != a.ssl.key.get_secret_value().strip():
            out.append(f"/etc/ssl/stackkit/{name}.key is not the configured key")
    if calls is None:
        return out
    attrs = loaded.attrs[instance]
    build = (attrs.get("plone") or {}).get("build_command") if "plone" in cfg.instances[instance].layers else None
    if build and apps and not any(c.argv[-2:] == ["-c", build] for c in calls if c.argv[0] == "sudo"):
        out.append(f"plone.build_command did not reach `bash -c` as one argument: "
                   f"{[c.argv[-3:] for c in calls if c.argv[0] == 'sudo' and '-c' in c.argv][:2]}")
    for a in (cfg.apps[x] for x in apps):
        if a.source.type == "git":
            fetches = [c.argv for c in calls if c.argv[0] == "sudo" and "fetch" in c.argv]
            if fetches and not any(a.source.url in argv and a.source.revision in argv for argv in fetches):
                out.append(f"git fetch did not get the url and revision as arguments: {fetches[0][-3:]}")
    return out


def bundle_digest(steps: dict[str, list[tuple[str, str]]]) -> dict[str, list[str]]:
    return {i: [hashlib.sha256(t.encode()).hexdigest() for t, _ in s] for i, s in steps.items()}


def staged(steps: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for text, _ in steps:
        out.update(staged_files(text))
    return out


def load_quietly(config: dict[str, Any], secret: set[str]) -> Loaded | ConfigError:
    try:
        return load(config, secret)
    except ConfigError as exc:
        return exc


def describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-600:]


def decode(files: dict[str, bytes]) -> dict[str, str]:
    return {p: b.decode("utf-8", errors="replace") for p, b in files.items()}


