"""The bootstrap of a lifecycle command on its instance: the `__main__.py` of the instance's library upload.

A command runs `sudo -n python3 -I ~/.stackkit-library.zip <event>` (or the copy of this file the store keeps, when the
upload is gone: stackkit.lifecycle.script.RUN_JOB), the job on stdin. It:
1. moves every file of the upload whose content matches its name (its digest) into the store, /etc/stackkit/lib
   (0700; a file that does not match is left out, and a job that needs it stops in stackkit.lifecycle.host, naming it);
2. keeps a copy of itself in the store (boot.zip), and the name of the upload's runtime (the upload's `runtime` file,
   its digest) as the store's current runtime, for commands that run after the upload is gone;
3. imports the current runtime, by its digest, from the store (never from the upload) and hands it the job. (A job
   written by an earlier stackkit names its runtime itself: that one is used.)

The upload is written over SSH by the deploy user, who runs every command as root through sudo anyway: running its
bootstrap as root grants nothing that user does not have. Standard library only; no stackkit import before step 3.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile

STORE = "/etc/stackkit/lib"          # stackkit.lifecycle.script.STORE (this file imports nothing of stackkit)
DIGEST_LENGTH = 16
RUNTIME_POINTER = "runtime"          # stackkit.lifecycle.bundle.RUNTIME_POINTER


def store_upload(upload: str, store: str = STORE) -> None:
    """Steps 1 and 2: the upload's files into the store, and this bootstrap beside them."""
    os.makedirs(store, 0o700, exist_ok=True)
    os.chmod(store, 0o700)
    with zipfile.ZipFile(upload) as z:
        pointer = None
        for name in z.namelist():
            if name == "__main__.py":
                boot = z.read(name)
                continue
            if name == RUNTIME_POINTER:
                pointer = z.read(name)
                continue
            path = os.path.join(store, name)
            if os.path.exists(path):
                continue
            data = z.read(name)
            if hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH] != name:
                continue
            _write(path, data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("__main__.py", date_time=(1980, 1, 1, 0, 0, 0)), boot)
    _write(os.path.join(store, "boot.zip"), buf.getvalue())
    if pointer is not None and len(pointer) == DIGEST_LENGTH and pointer.isalnum():
        _write(os.path.join(store, RUNTIME_POINTER), pointer)


def _write(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.new"
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def run(payload: dict, argv: list[str], store: str = STORE) -> None:
    """Step 3."""
    name = payload.get("runtime") or _current(store)
    runtime = os.path.join(store, name)
    if not name or not os.path.isfile(runtime):
        sys.exit(f"stackkit: ERROR: the runtime {name or '(none named)'} is not in {store}: this instance's library "
                 "upload has not reached it; run the update again")
    sys.path.insert(0, runtime)
    from stackkit.lifecycle.host import main

    main(payload, argv, store)


def _current(store: str) -> str:
    try:
        with open(os.path.join(store, RUNTIME_POINTER), "rb") as fh:
            return fh.read().decode()
    except OSError:
        return ""


def main() -> None:
    here = os.path.abspath(sys.argv[0])
    del sys.path[0]                                  # never import from the upload itself
    if os.path.dirname(here) != STORE:
        store_upload(here)
    run(json.load(sys.stdin), sys.argv[1:])


if __name__ == "__main__":
    main()
