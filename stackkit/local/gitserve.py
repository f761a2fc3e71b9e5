"""Serving an app folder to the local machines as a git repository: a bare repo under the fleet's workdir, one commit
per change of the folder (tagged `local-<n>`), exported by `git daemon` on the bridge's address (git://, port 9418)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from stackkit.errors import LocalError

PORT = 9418


def _git(*argv: str, cwd: Path | None = None) -> str:
    r = subprocess.run(["git", *argv], cwd=cwd, capture_output=True, text=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "stackkit", "GIT_AUTHOR_EMAIL": "stackkit@localhost",
                            "GIT_COMMITTER_NAME": "stackkit", "GIT_COMMITTER_EMAIL": "stackkit@localhost"})
    if r.returncode != 0:
        raise LocalError(f"git {' '.join(argv[:3])} failed: {r.stderr[-500:]}")
    return r.stdout.strip()


def publish(name: str, folder: Path, workdir: Path) -> str:
    """Commit `folder` as the next revision of repository `name`; returns the tag (local-N) of its content."""
    if not folder.is_dir():
        raise LocalError(f"--app {name}={folder}: no such folder")
    work = workdir / "git" / f"{name}.work"
    bare = workdir / "git" / f"{name}.git"
    if not bare.exists():
        bare.parent.mkdir(parents=True, exist_ok=True)
        _git("init", "--quiet", "--bare", str(bare))
        _git("config", "uploadpack.allowAnySHA1InWant", "true", cwd=bare)
        (bare / "git-daemon-export-ok").touch()
    if not work.exists():
        _git("clone", "--quiet", str(bare), str(work))
    for entry in work.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(folder, work, dirs_exist_ok=True)
    _git("add", "-A", cwd=work)
    if _git("status", "--porcelain", cwd=work) or not _git("tag", "--list", cwd=work):
        _git("commit", "--quiet", "--allow-empty", "-m", f"{name} from {folder}", cwd=work)
        n = len(_git("tag", "--list", "local-*", cwd=work).split())
        _git("tag", f"local-{n + 1}", cwd=work)
        _git("push", "--quiet", "--tags", "origin", "HEAD:refs/heads/main", cwd=work)
    return _git("describe", "--tags", "--exact-match", "HEAD", cwd=work)


def serve(workdir: Path, address: str) -> int:
    """Start (once) a git daemon exporting workdir/git on address:9418; returns its pid."""
    (workdir / "git").mkdir(parents=True, exist_ok=True)
    pidfile = workdir / "git-daemon.pid"
    if pidfile.exists():
        pid = int(pidfile.read_text() or 0)
        try:
            os.kill(pid, 0)
            return pid
        except (ProcessLookupError, ValueError):
            pass
    log = open(workdir / "git-daemon.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(["git", "daemon", "--reuseaddr", f"--base-path={workdir / 'git'}", f"--listen={address}",
                             f"--port={PORT}", "--informative-errors", str(workdir / "git")],
                            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
    pidfile.write_text(str(proc.pid))
    time.sleep(0.5)
    if proc.poll() is not None:
        raise LocalError(f"git daemon failed to start on {address}:{PORT}; see {workdir / 'git-daemon.log'}")
    return proc.pid


def stop(workdir: Path) -> None:
    pidfile = workdir / "git-daemon.pid"
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
        pidfile.unlink()
