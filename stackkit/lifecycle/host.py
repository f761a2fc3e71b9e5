"""The instance's side of a lifecycle command: render the job's script from the library and run it.

Runs as root from the runtime zip in /etc/stackkit/lib (stackkit.lifecycle.bundle's bootstrap imports it), standard
library and the runtime's own modules only. The job's files are taken from the store by digest into a private folder,
the script is rendered exactly as the plan rendered it (stackkit.lifecycle.script) and refused unless its digest is the
one the plan computed, then bash runs it with the command's arguments (the event). The folder, which holds the script
with any secret of the view, is removed afterwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from stackkit.errors import TemplateError
from stackkit.lifecycle.script import STORE as script_store
from stackkit.lifecycle.script import digest, layers_of, script, spec_name
from stackkit.lifecycle.users import users_script

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
        return _checked(payload, folder, users_script(payload["users"]))
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
        text = script(job, specs, layers)
    except TemplateError as exc:
        _die(str(exc))
    return _checked(payload, folder, text)


def _checked(payload: dict[str, Any], folder: Path, text: str) -> Path:
    """The script written into `folder`, if it is byte for byte the one the plan rendered."""
    if digest(text) != payload["expect"]:
        _die(f"the script rendered here ({digest(text)}) is not the one the plan rendered ({payload['expect']}): "
             "the runtime or a file differs from the plan's; run the update again")
    path = folder / "script.sh"
    path.write_text(text)
    path.chmod(0o700)
    return path


def main(payload: dict[str, Any], argv: list[str], store: str | Path = STORE) -> None:
    runs = Path(store).parent / "run"
    runs.mkdir(mode=0o700, parents=True, exist_ok=True)
    event = "users" if "users" in payload else payload["job"]["view"]["event"]
    folder = Path(tempfile.mkdtemp(prefix=f"{event}-", dir=runs))
    try:
        path = prepare(payload, folder, Path(store))
        sys.stdout.flush()
        rc = subprocess.run(["bash", str(path), *argv], stdin=subprocess.DEVNULL, check=False).returncode
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    sys.exit(rc)


if __name__ == "__main__":  # pragma: no cover - the bootstrap calls main()
    main(json.load(sys.stdin), sys.argv[1:])
