"""What a lifecycle command carries, and what each instance's library holds (docs/design.md: bundles and libraries).

A command's `create`/`delete` runs the library's bootstrap as root (stackkit.lifecycle.script.RUN_JOB); its stdin is
one line of JSON: the *job* (stackkit.lifecycle.script: the event's
view, the instance's attributes, the layers it runs) with the digest of every file of the library the job uses and the
digest of the script the plan rendered from it. The layers' files (templates, scripts, layer metadata) and the runtime
that renders them (stackkit.lifecycle.script, render, host, stackkit.cluster.opsworks, jinja2 and markupsafe: a zip)
travel once per instance, in `<instance>-library`: pulumi-command's CopyToRemote uploads a zip of them, each file
named by its digest, with the bootstrap (stackkit.lifecycle.boot) as its __main__.py, to the SSH user's home; the
state holds only the zip's hash.

On the host the bootstrap moves every file of the upload whose content matches its name into /etc/stackkit/lib
(root-only, content-addressed, never pruned: a delete run later finds the files its stored job names), then the runtime
renders the script from the job and runs it, after checking that it is byte for byte the one the plan rendered.

So a command's stored input is its view and a list of digests: what its diff shows is the data that changed and the
name of each file that changed; `stackkit plan --against` and the golden files show the rendered text. A command's
input changes exactly when the script it runs changes (the expected digest), as when the whole script was its input.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from stackkit.cluster.opsworks import NODE_DEFAULTS, node_facts
from stackkit.config.layerspec import LayerSpec
from stackkit.config.load import Loaded
from stackkit.lifecycle import refs
from stackkit.lifecycle import script as _script
from stackkit.lifecycle.script import digest, spec_name
from stackkit.lifecycle.users import users_parts, users_script
from stackkit.paths import PACKAGE, ROOT, layers_dir

LIBRARY_DIR = ROOT / ".stackkit/library"                  # the uploads, as the engine reads them (content-addressed)
# CopyToRemote writes the upload to stackkit.lifecycle.script.UPLOAD: relative, so the SSH user's home (SFTP's starting
# directory); the commands find it there ($HOME, script.RUN_JOB)

# the runtime's files: this package's host-side modules, then jinja2 and markupsafe as installed here (pure Python:
# markupsafe falls back to its _native module), so the host renders with exactly the plan's jinja2
RUNTIME_FILES = ("__init__.py", "errors.py", "paths.py", "lifecycle/__init__.py", "lifecycle/script.py",
                 "lifecycle/render.py", "lifecycle/host.py", "lifecycle/prelude.sh", "lifecycle/users.py",
                 "lifecycle/users.sh", "cluster/__init__.py", "cluster/opsworks.py")

BOOT_FILE = PACKAGE / "lifecycle/boot.py"
RUNTIME_POINTER = "runtime"        # stackkit.lifecycle.boot.RUNTIME_POINTER (boot imports nothing of stackkit)


def _files_of(spec: LayerSpec, layer: str, events: list[str]) -> list[str]:
    """The layer's files (under layers/) a command running `events` renders: its scripts, then its templates."""
    return ([spec.scripts[e] for e in events if e in spec.scripts]
            + [f"{layer}/{t.src}" for t in spec.templates if set(t.events) & set(events)])


@dataclass(frozen=True)
class _LayerPart:
    """A layer as the commands running some events use it: what they read, their metadata, its digest."""

    spec: LayerSpec              # held, so that the cache's id() key cannot be reused by another object
    reads: refs.Reads
    data: dict[str, Any]
    digest: str


# (id of the layer spec, layer, events, layers folder, its files' sizes and times) -> its part: computed once per
# program run, not per command, and again when a file changes
_PARTS: dict[tuple[Any, ...], _LayerPart] = {}


def _part(spec: LayerSpec, layer: str, events: list[str]) -> _LayerPart:
    stats = tuple((st.st_size, st.st_mtime_ns) for st in (os.stat(layers_dir() / n) for n in _files_of(spec, layer, events)))
    key = (id(spec), layer, tuple(events), str(layers_dir()), stats)
    hit = _PARTS.get(key)
    if hit is None or hit.spec is not spec:
        reads = refs.Reads()
        for name in _files_of(spec, layer, events):
            reads.update(refs.reads(layers_dir(), name))
        data = _spec_data(spec, layer, events, reads)
        hit = _PARTS[key] = _LayerPart(spec, reads, data, _remember(json.dumps(data, sort_keys=True).encode()))
    return hit


def _reads(loaded: Loaded, instance: str, events: list[str], app: str | None) -> refs.Reads:
    out = refs.Reads()
    for la in event_layers(loaded, instance, app):
        out.update(_part(loaded.specs[la], la, events).reads)
    return out


def spec_data(spec: LayerSpec, layer: str, events: list[str]) -> dict[str, Any]:
    """A layer's metadata as a command running `events` reads it: its templates and scripts for those events, the
    packages and users for setup, and of the `layer` render context only what its files read (stackkit.lifecycle.refs):
    a layer.yaml change reaches exactly the commands it can change."""
    return _part(spec, layer, events).data


def _spec_data(spec: LayerSpec, layer: str, events: list[str], reads: refs.Reads) -> dict[str, Any]:
    dump = spec.model_dump(by_alias=True, mode="json", exclude={"attributes", "scripts"})
    data = {
        "templates": [t for t in dump["templates"] if set(t["events"]) & set(events)],
        "scripts": {e: spec.scripts[e] for e in events if e in spec.scripts},
        "packages": dump["packages"] if "setup" in events else [],
        "users": dump["users"] if "setup" in events else [],
        "context": dump if "layer" in reads.whole else refs.prune(dump, reads.paths["layer"]),
        # the digest of each file it renders (the job names only this metadata's digest: one per layer)
        "files": {name: _remember((layers_dir() / name).read_bytes()) for name in _files_of(spec, layer, events)},
    }
    out: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    return out


def event_layers(loaded: Loaded, instance: str, app: str | None) -> list[str]:
    layers = loaded.config.instances[instance].layers
    if app is not None:
        layers = [la for la in layers if la in loaded.config.apps[app].layers]
    return list(layers)


def job(loaded: Loaded, instance: str, views: dict[str, dict[str, Any]], app: str | None = None,
        volumes: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The job of one command of `instance` (`views`: event -> its view), as plain JSON data."""
    events = list(views)
    apps = {n: a for v in views.values() for n, a in v["apps"].items()}
    reads = _reads(loaded, instance, events, app)
    facts = node_facts(loaded, {"instance": views[events[0]]["instance"], "apps": apps})
    views = {e: _script.compact(v, app) for e, v in views.items()}     # what a view says twice, once
    base = views[events[0]]
    attrs = loaded.attrs[instance]
    data: dict[str, Any] = {
        "app": app,
        # only what the command's files read (stackkit.lifecycle.refs): an attribute change re-runs only those
        "attrs": attrs if "attrs" in reads.whole else refs.prune(attrs, reads.paths["attrs"]),
        # node_facts, without its defaults
        "node": {k: v for k, v in facts.items() if v != NODE_DEFAULTS.get(k)},
        "view": base,
        "events": [[e, {k: v for k, v in views[e].items() if base.get(k) != v}] for e in events],
    }
    if volumes:
        data["volumes"] = volumes
    data = {k: v for k, v in data.items() if v != {}}
    for e in events:
        if set(views[e]) != set(base):
            raise ValueError(f"{instance}: the views of {events} differ in their keys")
    # JSON's own types and key order: the host renders from the parsed JSON, the plan from this, byte for byte alike
    out: dict[str, Any] = json.loads(json.dumps(data, sort_keys=True))
    if _script.layers_of(out) != event_layers(loaded, instance, app):     # the instance, stack and layers are the view's
        raise ValueError(f"{instance}: the job's layers are not the command's")
    return out


def files(loaded: Loaded, instance: str, events: list[str], app: str | None) -> dict[str, str]:
    """layer metadata name -> its digest, for each layer of a command of `instance` running `events` (the metadata
    names the digests of the layer's files the command renders: stackkit.lifecycle.script.spec_name)."""
    return {spec_name(la, events): _part(loaded.specs[la], la, events).digest
            for la in event_layers(loaded, instance, app)}


def _zip(entries: dict[str, bytes]) -> bytes:
    """A deterministic zip (fixed dates and modes, sorted): the same files always give the same bytes and digest."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, entries[name])
    return buf.getvalue()


@cache
def runtime() -> bytes:
    """The runtime zip: what the host needs to render and run a job (see RUNTIME_FILES)."""
    import jinja2
    import markupsafe

    entries = {f"stackkit/{f}": (PACKAGE / f).read_bytes() for f in RUNTIME_FILES}
    for mod in (jinja2, markupsafe):
        folder = Path(mod.__file__ or "").parent
        for path in sorted(folder.glob("*.py")):
            entries[f"{folder.name}/{path.name}"] = path.read_bytes()
    return _zip(entries)


# every file content this process has put in a library, by digest: what `rendered` reads a stored job's files from
_CONTENT: dict[str, bytes] = {}


def _remember(content: bytes) -> str:
    d = digest(content)
    _CONTENT[d] = content
    return d


# the layer metadata digests of an instance's commands -> its upload (instances alike share one)
_LIBRARIES: dict[tuple[str, ...], Path] = {}


def library(manifests: list[dict[str, str]]) -> Path:
    """The upload of one instance: the runtime, the bootstrap, and every layer metadata its commands' manifests name
    with the files they name, each named by its digest, written once under .stackkit/library/ (the path CopyToRemote's
    FileAsset reads; its name is its digest too)."""
    specs = sorted({d for m in manifests for d in m.values()})
    key = (digest(runtime()), *specs)
    if key in _LIBRARIES and _LIBRARIES[key].exists():
        return _LIBRARIES[key]
    # RUNTIME_POINTER names the runtime the bootstrap imports (its digest): the one thing not named by its content
    entries = {_remember(runtime()): runtime(), "__main__.py": BOOT_FILE.read_bytes(),
               RUNTIME_POINTER: digest(runtime()).encode()}
    for d in specs:
        entries[d] = _CONTENT[d]
        entries.update({f: _CONTENT[f] for f in json.loads(_CONTENT[d])["files"].values()})
    data = _zip(entries)
    path = _LIBRARIES[key] = LIBRARY_DIR / f"{digest(data)}.zip"
    if not path.exists():
        LIBRARY_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{id(data)}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def _specs(loaded: Loaded, j: dict[str, Any]) -> dict[str, dict[str, Any]]:
    events = [e for e, _ in j["events"]]
    return {la: spec_data(loaded.specs[la], la, events) for la in _script.layers_of(j)}


def bundle(loaded: Loaded, instance: str, views: dict[str, dict[str, Any]], app: str | None = None,
           volumes: list[dict[str, str]] | None = None) -> str:
    """The whole script one command of `instance` runs on the host, as the plan renders it."""
    j = job(loaded, instance, views, app=app, volumes=volumes)
    return _script.script(j, _specs(loaded, j), layers_dir())


def stdin(loaded: Loaded, instance: str, views: dict[str, dict[str, Any]], app: str | None = None,
          volumes: list[dict[str, str]] | None = None) -> str:
    """The command's stdin: the job, with the digests of its files and of its script (stackkit.lifecycle.script.
    expected: not of the runtime's shell library). The runtime is the library's (its `runtime` file names it): a
    release that changes only the runtime changes no command's input."""
    j = job(loaded, instance, views, app=app, volumes=volumes)
    payload = {"expect": _script.expected(_script.script_parts(j, _specs(loaded, j), layers_dir())), "job": j,
               "files": files(loaded, instance, list(views), app)}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")) + "\n"


def users_stdin(instance: str, view: dict[str, Any]) -> str:
    """The users step's stdin: its users view (stackkit.cluster.state.users_view) and the digest of the script the plan
    renders from it (stackkit.lifecycle.users), which the runtime in the instance's library renders again."""
    job = {"instance": instance, "view": view}
    payload = {"expect": _script.expected(users_parts(instance, view)), "users": job}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")) + "\n"


def payload(text: str) -> dict[str, Any]:
    """The payload of a command's stdin (written by `stdin` or `users_stdin` above)."""
    out: dict[str, Any] = json.loads(text)
    return out


def is_job(text: str) -> bool:
    """A command's stdin as stackkit writes it (a payload for the library's runtime)."""
    return text.startswith('{"expect":')


def spec_of(p: dict[str, Any], layer: str) -> dict[str, Any]:
    """A layer's metadata as a payload's job names it (from the files this process put in the libraries)."""
    name = spec_name(layer, [e for e, _ in p["job"]["events"]])
    out: dict[str, Any] = json.loads(_CONTENT[p["files"][name]])
    return out


def rendered(text: str) -> str:
    """The script a command's stdin makes the host run."""
    if not is_job(text):
        return text
    p = payload(text)
    if "users" in p:
        return users_script(p["users"])
    return _script.script(p["job"], {la: spec_of(p, la) for la in _script.layers_of(p["job"])}, layers_dir())


def staged_files(text: str) -> dict[str, str]:
    """destination -> content of every template a command's stdin stages, over its events (none for users)."""
    if not is_job(text):
        return {}
    p = payload(text)
    if "users" in p:
        return {}
    specs = {la: spec_of(p, la) for la in _script.layers_of(p["job"])}
    return {dest: content for e, _ in p["job"]["events"]
            for _, _, dest, _, content in _script.staged(p["job"], specs, e, layers_dir())}
