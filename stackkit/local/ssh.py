"""Running one lifecycle command on a machine the way pulumi-command's remote.Command does: connect as the
connection's user with its private key, retrying the dial (dialErrorLimit, perDialTimeout), run the command string,
feed stdin, and return stdout/stderr with the trailing newline trimmed. Uses the system OpenSSH client.

Nothing here logs stdin: it can hold secrets."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from stackkit.errors import LocalError

SSH_FAILED = 255


@dataclass
class Result:
    stdout: str
    stderr: str
    exit_code: int


def run_remote(connection: dict[str, Any], command: str, stdin: str | None = None, timeout: float = 3600) -> Result:
    host, user = connection["host"], connection.get("user", "root")
    port = str(int(float(connection.get("port", 22))))       # wire-format numbers arrive as floats
    dials = int(float(connection.get("dialErrorLimit", 10)))
    per_dial = int(float(connection.get("perDialTimeout", 15)))
    fd, key_path = tempfile.mkstemp(prefix="stackkit-key-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(connection["privateKey"])
        os.chmod(key_path, 0o600)
        argv = ["ssh", "-i", key_path, "-p", port, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", f"ConnectTimeout={per_dial}",
                f"{user}@{host}", command]
        attempt = 0
        while True:
            attempt += 1
            proc = subprocess.run(argv, input=(stdin or "").encode(), capture_output=True, timeout=timeout)
            out = proc.stdout.decode(errors="replace")
            err = proc.stderr.decode(errors="replace")
            # 255: ssh itself failed (refused, unreachable, auth): dial again, like pulumi-command's backoff
            refused = any(s in err for s in ("Connection refused", "timed out", "No route to host", "Connection reset"))
            if proc.returncode == SSH_FAILED and not out and refused and attempt < dials:
                time.sleep(min(0.1 * 1.5 ** attempt, 5))
                continue
            break
    finally:
        os.unlink(key_path)
    result = Result(stdout=out.removesuffix("\n"), stderr=err.removesuffix("\n"), exit_code=proc.returncode)
    if proc.returncode != 0:
        tail = "\n".join((out + err).splitlines()[-40:])
        raise LocalError(f"`{command}` on {user}@{host} exited {proc.returncode}; last lines of its output:\n{tail}")
    return result
