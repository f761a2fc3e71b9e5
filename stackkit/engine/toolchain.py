"""Where the real Pulumi engine comes from, and the environment a local-cloud run needs.

- `pulumi`: the one on PATH (a user's install) if there is one, else the CLI scripts/engine/build built from the Go
  module proxy into its cache (scripts/setup runs it).
- plugins: the engine finds `pulumi-language-python` and `pulumi-resource-<name>` on PATH. For the local cloud,
  stackkit/engine/bin goes first on PATH: our language host (langhost.py) and the stand-in `aws` provider. Nothing is
  ever downloaded (PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION), and no AWS credential is read.
- state: a file backend and the passphrase secrets provider, under the local cloud's folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stackkit.errors import LocalError
from stackkit.paths import ROOT

PLUGIN_BIN = Path(__file__).resolve().parent / "bin"
BUILD = ROOT / "scripts" / "engine" / "build"


def engine_bin() -> Path | None:
    """The folder of the `pulumi` to use (None: the one on PATH), building it once if needed."""
    out = subprocess.run([str(BUILD)], capture_output=True, text=True)
    if out.returncode != 0:
        raise LocalError(f"scripts/engine/build failed: {out.stderr.strip()[-800:]}")
    folder = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""
    return Path(folder) if folder else None


def command_provider(path: str) -> str | None:
    """pulumi-command's provider as the engine will find it: on PATH, or installed in PULUMI_HOME's plugins."""
    found = shutil.which("pulumi-resource-command", path=path)
    if found:
        return found
    home = Path(os.environ.get("PULUMI_HOME", Path.home() / ".pulumi")) / "plugins"
    for d in sorted(home.glob("resource-command-v*")):
        exe = d / "pulumi-resource-command"
        if exe.exists():
            return str(exe)
    return None


@dataclass(frozen=True)
class Engine:
    """The real engine, set up for the local cloud in `workdir`."""

    workdir: Path
    passphrase: str
    bin: Path | None

    @property
    def path(self) -> str:
        parts = [str(PLUGIN_BIN)]
        if self.bin is not None:
            parts.append(str(self.bin))
        return os.pathsep.join([*parts, os.environ.get("PATH", "")])

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PULUMI_"))}
        env.update({
            "PATH": self.path,
            "PULUMI_BACKEND_URL": f"file://{self.workdir / 'state'}",
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
            "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
            "PULUMI_DEBUG_COMMANDS": "true",   # enables --event-log: the engine events, one JSON per line
            "STACKKIT_LOCAL_CLOUD": str(self.workdir / "cloud"),
            **extra,
        })
        if "PULUMI_HOME" in os.environ:
            env["PULUMI_HOME"] = os.environ["PULUMI_HOME"]
        return env

    def pulumi(self, *args: str, cwd: Path = ROOT, check: bool = True, timeout: float | None = None,
               **extra: str) -> subprocess.CompletedProcess[str]:
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=cwd, env=self.env(**extra),
                             capture_output=True, text=True, timeout=timeout)
        if check and out.returncode != 0:
            raise LocalError(f"pulumi {' '.join(args)} failed ({out.returncode}):\n{(out.stdout + out.stderr)[-3000:]}")
        return out


def local_engine(workdir: Path, passphrase: str) -> Engine:
    workdir.mkdir(parents=True, exist_ok=True)
    return Engine(workdir=workdir, passphrase=passphrase, bin=engine_bin())
