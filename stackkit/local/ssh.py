"""Running one lifecycle command on a machine the way pulumi-command's remote.Command does: connect as the
connection's user with its private key, retrying the dial (dialErrorLimit, perDialTimeout), run the command string,
feed stdin, and return stdout/stderr with the trailing newline trimmed. Uses the system OpenSSH client.

The host key is checked as pulumi-command checks the connection's `hostKey` (ssh.FixedHostKey, host key algorithms
limited to the pinned key's type): a known_hosts file holding only that key, StrictHostKeyChecking=yes. A wrong key
fails at once (exit 255, "Host key verification failed"), never dialled again. Without `hostKey` nothing is checked,
as pulumi-command does (an instance with `host_key: unpinned`).

A connection with a `proxy` (a private instance, reached through the stack's bastion) goes through it as
pulumi-command's proxy does: OpenSSH's ProxyCommand `ssh -W host:port` to the bastion, with the proxy's own user, key
and pinned host key.

Nothing here logs stdin: it can hold secrets."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from stackkit.errors import LocalError

SSH_FAILED = 255


@dataclass
class Result:
    stdout: str
    stderr: str
    exit_code: int


@contextmanager
def pinned_options(host: str, port: int, host_key: str | None) -> Iterator[list[str]]:
    """ssh -o options that accept exactly `host_key` ("ssh-ed25519 AAAA...") for host:port, or anything when None."""
    if not host_key:
        yield ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return
    fd, known_hosts = tempfile.mkstemp(prefix="stackkit-known-hosts-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{host if port == 22 else f'[{host}]:{port}'} {host_key.strip()}\n")
        yield ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known_hosts}",
               "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no",
               "-o", f"HostKeyAlgorithms={host_key.split()[0]}"]
    finally:
        os.unlink(known_hosts)


@contextmanager
def _key_file(private_key: str) -> Iterator[str]:
    fd, key_path = tempfile.mkstemp(prefix="stackkit-key-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(private_key)
        os.chmod(key_path, 0o600)
        yield key_path
    finally:
        os.unlink(key_path)


def ssh_argv(connection: dict[str, Any], stack: ExitStack) -> list[str]:
    """`ssh` and its options for one connection (a proxy's too), up to the destination; temp files live in `stack`."""
    host, user = connection["host"], connection.get("user", "root")
    port = int(float(connection.get("port", 22)))       # wire-format numbers arrive as floats
    per_dial = int(float(connection.get("perDialTimeout", 15)))
    key_path = stack.enter_context(_key_file(connection["privateKey"]))
    pinned = stack.enter_context(pinned_options(host, port, connection.get("hostKey")))
    jump: list[str] = []
    if connection.get("proxy"):
        via = ssh_argv(connection["proxy"], stack)
        jump = ["-o", "ProxyCommand=" + shlex.join([*via, "-W", "%h:%p"])]
    return ["ssh", "-i", key_path, "-p", str(port), "-o", "BatchMode=yes", *pinned, *jump, "-o", "LogLevel=ERROR",
            "-o", f"ConnectTimeout={per_dial}", f"{user}@{host}"]


def run_remote(connection: dict[str, Any], command: str, stdin: str | None = None, timeout: float = 3600,
               progress: Callable[[str], None] | None = None) -> Result:
    """Run `command` over SSH with `stdin`; `progress` receives each progress line the script logs (sk_log's
    `stackkit[HH:MM:SS]: ...` on stderr) while it runs, so a long script is not silent until it ends."""
    host, user = connection["host"], connection.get("user", "root")
    dials = int(float(connection.get("dialErrorLimit", 10)))
    with ExitStack() as stack:
        return _run([*ssh_argv(connection, stack), command], user, host, command, stdin, dials, timeout, progress)


PROGRESS = "stackkit["


def _communicate(argv: list[str], stdin: str | None, timeout: float,
                 progress: Callable[[str], None] | None) -> tuple[int, str, str]:
    """Like subprocess.run(capture_output=True), but stderr is read line by line as it comes."""
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out: list[bytes] = []
    err: list[bytes] = []

    def feed() -> None:
        try:
            proc.stdin.write((stdin or "").encode())  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            pass

    def drain() -> None:
        out.append(proc.stdout.read())  # type: ignore[union-attr]

    def lines() -> None:
        for raw in iter(proc.stderr.readline, b""):  # type: ignore[union-attr]
            err.append(raw)
            text = raw.decode(errors="replace").rstrip("\n")
            if progress is not None and text.startswith(PROGRESS):
                progress(text)

    threads = [threading.Thread(target=f, daemon=True) for f in (feed, drain, lines)]
    for t in threads:
        t.start()
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise LocalError(f"`{argv[-1]}` did not finish within {timeout:.0f} s") from None
    for t in threads:
        t.join()
    return code, b"".join(out).decode(errors="replace"), b"".join(err).decode(errors="replace")


def _run(argv: list[str], user: str, host: str, command: str, stdin: str | None, dials: int, timeout: float,
         progress: Callable[[str], None] | None = None) -> Result:
    attempt = 0
    while True:
        attempt += 1
        code, out, err = _communicate(argv, stdin, timeout, progress)
        # 255: ssh itself failed (refused, unreachable): dial again, like pulumi-command's backoff; a refused host
        # key or authentication is not dialled again
        refused = any(s in err for s in ("Connection refused", "timed out", "No route to host", "Connection reset"))
        if code == SSH_FAILED and not out and refused and attempt < dials:
            time.sleep(min(0.1 * 1.5 ** attempt, 5))
            continue
        break
    result = Result(stdout=out.removesuffix("\n"), stderr=err.removesuffix("\n"), exit_code=code)
    if code != 0:
        tail = "\n".join((out + err).splitlines()[-40:])
        raise LocalError(f"`{command}` on {user}@{host} exited {code}; last lines of its output:\n{tail}")
    return result
