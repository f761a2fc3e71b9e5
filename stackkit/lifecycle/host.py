"""The instance's side of a lifecycle command: render the job's script from the library and run it.

Runs as root from the runtime zip in /etc/stackkit/lib (stackkit.lifecycle.bundle's bootstrap imports it), standard
library and the runtime's own modules only. The job's files are taken from the store by digest into a private folder,
the script is rendered exactly as the plan rendered it (stackkit.lifecycle.script) and refused unless its digest is the
one the plan computed, then bash runs it with the command's arguments (the event). The folder, which holds the script
with any secret of the view, is removed afterwards.

What last ran: each command's job that ran to its end is recorded in /etc/stackkit/applied/<command>.json (its digest,
when, how long). A command's update (`<event> --if-changed`: pulumi-command runs it whenever any input changes, its
connection included) runs the job only when it is not the recorded one: a new bastion or a new SSH key changes the
command's connection, never its job, and re-runs nothing. A delete (undeploy, shutdown, lock_users) removes the record.
The last line a run prints is `stackkit-run {...}`: the event, when it started, how long it took, what it did (ran,
unchanged), as JSON (what the console shows of a command's last run, from its recorded output).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from stackkit.errors import TemplateError
from stackkit.lifecycle.script import IF_CHANGED, digest, expected, layers_of, script_parts, spec_name
from stackkit.lifecycle.script import STORE as script_store
from stackkit.lifecycle.users import users_parts

STORE = Path(script_store)             # the scripts' folders go beside it, in run/


def _die(message: str) -> None:
    print(f"stackkit: ERROR: {message}", file=sys.stderr)
    sys.exit(1)


def _stored(store: Path, name: str, d: str) -> Path:
    path = store / d
    if not path.is_file():
        _die(f"{name} ({d}) is not in {store}: this instance's library upload has not reached it; run the update "
             "again (the <instance>-library resource uploads it)")
    return path


def prepare(payload: dict[str, Any], folder: Path, store: Path = STORE) -> Path:
    """Write the job's script into `folder` (its files copied from `store` under layers/; the users step's from its
    view alone), checked against the plan's digest; return its path."""
    if "users" in payload:
        return _checked(payload, folder, users_parts(payload["users"]["instance"], payload["users"]["view"]))
    layers = folder / "layers"
    job = payload["job"]
    events = [e for e, _ in job["events"]]
    specs = {}
    for la in layers_of(job):
        name = spec_name(la, events)
        spec = json.loads(_stored(store, name, payload["files"][name]).read_text())
        for path, d in sorted(spec["files"].items()):
            target = layers / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(_stored(store, path, d), target)
        specs[la] = spec
    try:
        parts = script_parts(job, specs, layers)
    except TemplateError as exc:
        _die(str(exc))
    return _checked(payload, folder, parts)


def _checked(payload: dict[str, Any], folder: Path, parts: tuple[str, str, str]) -> Path:
    """The script written into `folder`, if it is, but for the runtime's shell library, byte for byte the one the
    plan rendered."""
    if expected(parts) != payload["expect"]:
        _die(f"the script rendered here ({expected(parts)}) is not the one the plan rendered ({payload['expect']}): "
             "a file differs from the plan's; run the update again")
    path = folder / "script.sh"
    path.unlink(missing_ok=True)
    # 0700 from the first byte: the script may hold an app's secrets (its environment, a repository's credentials)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
    with os.fdopen(fd, "w") as f:
        f.write("".join(parts))
    return path


DELETES = {"undeploy": "deploy", "shutdown": "shutdown", "lock_users": "users"}


def command_of(payload: dict[str, Any]) -> str:
    """The command a payload belongs to, on its instance: its first event, and its app (deploy-site, configure)."""
    if "users" in payload:
        return "users"
    job = payload["job"]
    first = job["events"][0][0]
    return f"{first}-{job['app']}" if job["app"] else first


def job_digest(payload: dict[str, Any]) -> str:
    """What the command does for the stack: its job, the digests of its files and of its script (not the runtime)."""
    return digest(json.dumps({k: v for k, v in payload.items() if k != "runtime"}, sort_keys=True))


def main(payload: dict[str, Any], argv: list[str], store: str | Path = STORE) -> None:
    root = Path(store).parent
    runs = root / "run"
    runs.mkdir(mode=0o700, parents=True, exist_ok=True)
    if_changed = IF_CHANGED in argv
    argv = [a for a in argv if a != IF_CHANGED]
    event = argv[0] if argv else ""
    command, done = command_of(payload), job_digest(payload)
    applied = root / "applied" / f"{command}.json"
    started = time.time()
    if if_changed and _recorded(applied) == done:
        print(f"stackkit: {command} is unchanged since it last ran here (only the command's connection or stackkit's "
              "runtime changed): not run again")
        _report(event, command, started, "unchanged")
        sys.exit(0)
    folder = Path(tempfile.mkdtemp(prefix=f"{command}-", dir=runs))
    try:
        path = prepare(payload, folder, Path(store))
        sys.stdout.flush()
        rc = subprocess.run(["bash", str(path), *argv], stdin=subprocess.DEVNULL, check=False).returncode
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if rc == 0:
        if event in DELETES:
            applied.unlink(missing_ok=True)
        else:
            applied.parent.mkdir(mode=0o700, exist_ok=True)
            tmp = applied.with_suffix(".new")
            tmp.write_text(json.dumps({"digest": done, "event": event, "at": started,
                                       "seconds": round(time.time() - started, 1)}))
            tmp.replace(applied)
        _report(event, command, started, "ran")
    sys.exit(rc)


def _recorded(applied: Path) -> str | None:
    try:
        return str(json.loads(applied.read_text())["digest"])
    except (OSError, ValueError, KeyError):
        return None


def _report(event: str, command: str, started: float, result: str) -> None:
    """The run's last line, as data: what the console shows of it (from the command's recorded stdout)."""
    print("stackkit-run " + json.dumps({"event": event, "command": command, "result": result,
                                        "started": round(started, 1), "seconds": round(time.time() - started, 1)},
                                       sort_keys=True), flush=True)


if __name__ == "__main__":  # pragma: no cover - the bootstrap calls main()
    main(json.load(sys.stdin), sys.argv[1:])
