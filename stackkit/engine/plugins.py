"""The two Pulumi plugins `pulumi up` of stackkit's program needs besides pulumi-aws: pulumi-command's provider and
Pulumi's Python language host. Pinned here, provided as the CLI would have them:

- the provider, `pulumi-resource-command` v1.2.1 (the version the `pulumi-command==1.2.1` SDK asks for), in Pulumi's
  plugin cache (`$PULUMI_HOME/plugins/resource-command-v1.2.1`);
- the language host, `pulumi-language-python`, beside the `pulumi` binary (where Pulumi's own distribution puts it),
  with Pulumi's exec shim `pulumi-language-python-exec` next to it.

Each comes, in this order, from:
1. an install that is already there: the plugin cache, beside the CLI, or PATH (a provider on PATH is asked its
   version over gRPC, and installed into the plugin cache only when it is the pinned one);
2. a build from source snapshots: `STACKKIT_PLUGIN_SOURCES` names a folder holding `pulumi-command-v1.2.1/` (the
   repository's tag, `provider/` and LICENSE) and `pulumi-language-python-v3.259.0/` (pulumi/pulumi's tag,
   `sdk/python/cmd/pulumi-language-python/main.go`); each snapshot is checked against the digest pinned here, built
   with the Go toolchain from modules the Go module proxy serves (`-trimpath -buildvcs=false`, CGO off: the same
   bytes each time), into a cache outside the work tree (`~/.cache/stackkit/engine/plugins`), then installed;
3. Pulumi's own distribution, where the internet is reachable: `pulumi plugin install resource command v1.2.1`; the
   language host ships in Pulumi's CLI archive (install Pulumi so that `pulumi` is on PATH: it brings its own).

`python -m stackkit.engine.plugins` (scripts/setup runs it) provides both, or fails naming what is missing and the
three ways to provide it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from stackkit.engine.toolchain import (
    EXEC_SHIM,
    LANGUAGE_HOST,
    cache_dir,
    cli,
    installed_plugin,
    language_host,
    provider_version,
    pulumi_home,
    run_pulumi,
)
from stackkit.errors import LocalError
from stackkit.paths import ROOT

SOURCES_ENV = "STACKKIT_PLUGIN_SOURCES"
LANGUAGE_MODULE = ROOT / "scripts" / "engine" / "language-python"    # its go.mod and go.sum (pinned), for main.go


@dataclass(frozen=True)
class Plugin:
    kind: str                # "resource" | "language"
    name: str                # "command" | "python"
    version: str             # the pinned version, with its v
    snapshot: str            # its folder under STACKKIT_PLUGIN_SOURCES
    files: tuple[str, ...]   # what the build reads from the snapshot (a folder: every file below it)
    digest: str              # sha256 of those files (source_digest): the pinned source
    module: str              # the Go module folder in the snapshot ("": ours, LANGUAGE_MODULE, with main.go copied in)
    package: str             # the main package, built in the module folder
    version_var: str         # the -X variable that carries the version, as upstream's release build sets it

    @property
    def binary(self) -> str:
        return f"pulumi-{self.kind}-{self.name}"

    @property
    def label(self) -> str:
        return f"{self.binary} {self.version}"


COMMAND = Plugin(
    kind="resource", name="command", version="v1.2.1", snapshot="pulumi-command-v1.2.1", files=("provider",),
    digest="2083618cdb651c2dc5ad3790349933fb9506d40190d3a5ef705bb58c01f2e83d", module="provider",
    package="./cmd/pulumi-resource-command", version_var="github.com/pulumi/pulumi-command/provider/pkg/version.Version")
# built against the CLI's pkg/v3 and sdk/v3 (scripts/engine/language-python/go.mod: the same modules as the CLI, so
# its build reuses the CLI's); it speaks the same language-host protocol to the CLI
PYTHON = Plugin(
    kind="language", name="python", version="v3.259.0", snapshot="pulumi-language-python-v3.259.0",
    files=("sdk/python/cmd/pulumi-language-python/main.go",),
    digest="64af1e42f1d649fbebd09ee756376becc6db15824096a31be05076d742395204", module="", package=".",
    version_var="github.com/pulumi/pulumi/sdk/v3/go/common/version.Version")
PLUGINS = (COMMAND, PYTHON)


def source_digest(root: Path, files: tuple[str, ...]) -> str:
    """sha256 over every file the build reads: each one's path relative to the snapshot, then its bytes, sorted."""
    h = hashlib.sha256()
    paths: list[Path] = []
    for f in files:
        p = root / f
        paths += sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for p in sorted(paths, key=lambda q: q.relative_to(root).as_posix()):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _log(message: str) -> None:
    print(f"stackkit plugins: {message}", file=sys.stderr, flush=True)


# --- 2. a build from a source snapshot ------------------------------------------------------------------------------
def build(plugin: Plugin, sources: Path) -> Path:
    """The plugin built from its snapshot under `sources` (checked against the pinned digest), cached by digest."""
    snap = sources / plugin.snapshot
    if not snap.is_dir():
        raise LocalError(f"{SOURCES_ENV}={sources}: no {plugin.snapshot}/ there (the source snapshot of {plugin.label})")
    found = source_digest(snap, plugin.files)
    if found != plugin.digest:
        raise LocalError(f"{snap}: its source is not the pinned {plugin.label} (sha256 {found[:16]}, pinned "
                         f"{plugin.digest[:16]}): use the snapshot of that tag, unmodified")
    out_dir = cache_dir() / "plugins" / f"{plugin.kind}-{plugin.name}-{plugin.version}-{found[:12]}"
    exe = out_dir / plugin.binary
    if exe.exists():
        return exe
    if shutil.which("go") is None:
        raise LocalError(f"building {plugin.label} needs the Go toolchain (`go` on PATH)")
    cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=cache_dir()) as tmp:
        module = Path(tmp) / "module"
        if plugin.module:
            shutil.copytree(snap / plugin.module, module, copy_function=shutil.copyfile)
        else:
            module.mkdir()
            for name in ("go.mod", "go.sum"):
                shutil.copyfile(LANGUAGE_MODULE / name, module / name)
            for f in plugin.files:
                shutil.copyfile(snap / f, module / Path(f).name)
        for d in [module, *module.rglob("*")]:
            if d.is_dir():
                d.chmod(0o755)
        _log(f"building {plugin.label} from {snap} (once; a few minutes on 2 cores)")
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-trimpath -buildvcs=false -mod=readonly"}
        built = Path(tmp) / plugin.binary
        out = subprocess.run(["go", "build", "-ldflags", f"-s -w -X {plugin.version_var}={plugin.version}",
                              "-o", str(built), plugin.package], cwd=module, env=env, stdin=subprocess.DEVNULL,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise LocalError(f"building {plugin.label} failed:\n{out.stderr.strip()[-2000:]}")
        out_dir.mkdir(parents=True, exist_ok=True)
        built.replace(exe)
    return exe


# --- the provider ------------------------------------------------------------------------------------------------------
def _install_provider(pulumi: Path, exe: Path, home: Path | None) -> Path:
    p = COMMAND
    out = run_pulumi(pulumi, "plugin", "install", p.kind, p.name, p.version, "--file", str(exe), home=home)
    installed = installed_plugin(p.kind, p.name, p.version, home)
    if out.returncode != 0 or installed is None:
        raise LocalError(f"pulumi plugin install {p.kind} {p.name} {p.version} --file {exe} failed: "
                         f"{(out.stderr or out.stdout).strip()[-800:]}")
    return installed


def provide_command(pulumi: Path, sources: Path | None, home: Path | None = None) -> tuple[Path, str]:
    """pulumi-command's provider in the plugin cache of `home` (default: Pulumi's own); (its path, where it came from)."""
    p = COMMAND
    installed = installed_plugin(p.kind, p.name, p.version, home)
    if installed is not None:
        return installed, "already installed"
    for candidate in (pulumi.parent / p.binary, shutil.which(p.binary)):
        if candidate and Path(candidate).exists():
            version = provider_version(Path(candidate))
            if version == p.version:
                return _install_provider(pulumi, Path(candidate), home), f"installed from {candidate}"
            _log(f"{candidate} is {version or 'of an unknown version'}, not {p.version}: not used")
    if sources is not None:
        return _install_provider(pulumi, build(p, sources), home), f"built from {sources / p.snapshot}"
    out = run_pulumi(pulumi, "plugin", "install", p.kind, p.name, p.version, home=home, timeout=900)
    installed = installed_plugin(p.kind, p.name, p.version, home)
    if out.returncode == 0 and installed is not None:
        return installed, "downloaded from Pulumi's distribution"
    raise LocalError(missing(p, (out.stderr or out.stdout).strip().splitlines()[-1:] or [""]))


# --- the language host -------------------------------------------------------------------------------------------------
def provide_python(pulumi: Path, sources: Path | None) -> tuple[Path, str]:
    """Pulumi's Python language host beside the CLI (with its exec shim); (its path, where it came from)."""
    found = language_host(pulumi)
    if found is not None:
        return found, "already beside the CLI"
    if not (pulumi.parent / EXEC_SHIM).exists() or not os.access(pulumi.parent, os.W_OK):
        raise LocalError(f"{pulumi} has no {LANGUAGE_HOST} beside it, and stackkit does not write into that install: "
                         "install Pulumi from its own distribution (it ships the language host), or remove that "
                         "`pulumi` from PATH so that scripts/setup builds one")
    cached = sorted((pulumi_home() / "plugins").glob(f"language-python-v*/{LANGUAGE_HOST}"))
    on_path = shutil.which(LANGUAGE_HOST)
    for candidate, origin in ((cached[-1] if cached else None, "the plugin cache"), (on_path, "PATH")):
        if candidate:
            shutil.copy2(candidate, pulumi.parent / LANGUAGE_HOST)
            return pulumi.parent / LANGUAGE_HOST, f"copied from {origin} ({candidate})"
    if sources is not None:
        exe = build(PYTHON, sources)
        tmp = pulumi.parent / f".{LANGUAGE_HOST}.{os.getpid()}"
        shutil.copy2(exe, tmp)
        tmp.replace(pulumi.parent / LANGUAGE_HOST)
        return pulumi.parent / LANGUAGE_HOST, f"built from {sources / PYTHON.snapshot}"
    raise LocalError(missing(PYTHON, ["Pulumi does not distribute its language hosts as plugin downloads"]))


def missing(plugin: Plugin, why: list[str]) -> str:
    ways = {
        COMMAND: "`pulumi plugin install resource command v1.2.1` on a machine that reaches Pulumi's distribution",
        PYTHON: "Pulumi's CLI from its own distribution on PATH (it ships pulumi-language-python beside `pulumi`)",
    }
    return (f"{plugin.label} is not available ({' '.join(why).strip() or 'not found'}). Provide it one of three ways:\n"
            f"  1. install it where Pulumi looks: {ways[plugin]};\n"
            f"  2. set {SOURCES_ENV} to a folder holding its source snapshot {plugin.snapshot}/ (the upstream tag, "
            f"unmodified) and run scripts/setup again: it is built with Go and installed;\n"
            f"  3. on a machine with internet access, install Pulumi (https://www.pulumi.com/docs/install/) and run "
            f"scripts/setup: the CLI brings the language host, and the provider is downloaded")


def provide(pulumi: Path | None = None, sources: Path | None = None) -> dict[str, tuple[Path, str]]:
    """Both plugins, for the CLI `pulumi` (default: toolchain.cli())."""
    pulumi = pulumi or cli()
    if sources is None and os.environ.get(SOURCES_ENV):
        sources = Path(os.environ[SOURCES_ENV]).resolve()
    return {PYTHON.label: provide_python(pulumi, sources), COMMAND.label: provide_command(pulumi, sources)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stackkit.engine.plugins",
                                 description="Provide pulumi-command's provider and Pulumi's Python language host.")
    ap.add_argument("--pulumi", type=Path, help="the CLI to provide them for (default: the one stackkit uses)")
    args = ap.parse_args(argv)
    try:
        for label, (path, origin) in provide(args.pulumi).items():
            _log(f"{label}: {path} ({origin})")
    except LocalError as exc:
        print(f"stackkit plugins: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
