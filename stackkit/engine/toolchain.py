"""Where Pulumi's own engine comes from on this machine: the CLI, its plugin cache, and the build cache.

- `cli()`: the `pulumi` on PATH (a user's install) if there is one, else the CLI scripts/engine/build built from the
  Go module proxy into the build cache (scripts/setup runs it once).
- `pulumi_home()`: Pulumi's own folder (PULUMI_HOME, default ~/.pulumi), whose plugins/ is the plugin cache.
- plugins: stackkit.engine.plugins provides the two the program needs besides pulumi-aws (pulumi-command's provider,
  Pulumi's Python language host), as Pulumi's distribution would.

Nothing here is specific to the local cloud: stackkit.local hands its own PULUMI_HOME and environment to the engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from stackkit.errors import LocalError
from stackkit.paths import ROOT

BUILD = ROOT / "scripts" / "engine" / "build"
LANGUAGE_HOST = "pulumi-language-python"
EXEC_SHIM = "pulumi-language-python-exec"


def cache_dir() -> Path:
    """The build cache, outside the work tree: STACKKIT_ENGINE_CACHE, else $XDG_CACHE_HOME/stackkit/engine."""
    default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stackkit" / "engine"
    return Path(os.environ.get("STACKKIT_ENGINE_CACHE") or default)


def cli() -> Path:
    """The `pulumi` binary to use, building it once if there is none (scripts/engine/build)."""
    if os.environ.get("STACKKIT_ENGINE_BUILD") != "1":
        found = shutil.which("pulumi")
        if found:
            return Path(found).resolve()
    if not BUILD.exists():
        raise LocalError("Pulumi's CLI is not on PATH: install Pulumi (https://www.pulumi.com/docs/install/) "
                         "so that `pulumi` is on PATH")
    out = subprocess.run([str(BUILD)], capture_output=True, text=True,
                         env={**os.environ, "STACKKIT_ENGINE_BUILD": os.environ.get("STACKKIT_ENGINE_BUILD", "1")})
    if out.returncode != 0:
        raise LocalError(f"scripts/engine/build failed: {out.stderr.strip()[-800:]}")
    folder = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    exe = Path(folder) / "pulumi"
    if not folder or not exe.exists():
        raise LocalError(f"scripts/engine/build printed no folder holding pulumi ({out.stdout.strip()[-200:]!r})")
    return exe


def pulumi_home() -> Path:
    return Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")


def installed_plugin(kind: str, name: str, version: str, home: Path | None = None) -> Path | None:
    """The executable of an installed plugin in a plugin cache (None: not there, or not completely installed)."""
    folder = (home or pulumi_home()) / "plugins" / f"{kind}-{name}-{version}"
    exe = folder / f"pulumi-{kind}-{name}"
    if exe.exists() and not (folder.parent / f"{folder.name}.partial").exists():
        return exe
    return None


def language_host(pulumi: Path) -> Path | None:
    """Pulumi's Python language host where the CLI looks for it first: beside the binary, with its exec shim."""
    exe = pulumi.parent / LANGUAGE_HOST
    return exe if exe.exists() and (pulumi.parent / EXEC_SHIM).exists() else None


def provider_version(exe: Path, timeout: float = 20) -> str | None:
    """The version a resource provider binary reports (its GetPluginInfo, as the engine asks it), None if it cannot
    be started or asked."""
    import grpc
    from google.protobuf import empty_pb2
    from pulumi.runtime.proto import provider_pb2_grpc

    try:
        proc = subprocess.Popen([str(exe)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except OSError:
        return None
    try:
        assert proc.stdout is not None
        port = proc.stdout.readline().strip()
        if not port.isdigit():
            return None
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = provider_pb2_grpc.ResourceProviderStub(channel).GetPluginInfo(empty_pb2.Empty(), timeout=timeout)
        return f"v{info.version.lstrip('v')}"
    except grpc.RpcError:
        return None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_pulumi(pulumi: Path, *args: str, home: Path | None = None,
               timeout: float | None = 600) -> subprocess.CompletedProcess[str]:
    """One `pulumi` command outside any project (plugin management), with nothing asked and no update check."""
    env = {**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"}
    if home is not None:
        env["PULUMI_HOME"] = str(home)
    return subprocess.run([str(pulumi), *args, "--non-interactive"], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def python() -> str:
    """The interpreter of this stackkit (the project's virtualenv): the local cloud's plugins run with it."""
    return sys.executable
