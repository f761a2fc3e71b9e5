"""The local cloud's folders and files that hold keys, passphrases and state: private from the first byte.

- `private_dir(path)`: a folder only its owner can use. Created with mode 0700; one that exists must be a folder (not
  a link) owned by this user and not writable by its group or others, else it is refused: another user could
  otherwise swap the keys or the program the local cloud runs as root.
- `write_private(path, data)`: a file created 0600 before its first byte is written (never written, then chmod-ed)
  and put in place whole (a rename), so no reader sees half of it.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from stackkit.errors import LocalError


def private_dir(path: Path) -> Path:
    path = Path(path)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if not path.parent.exists():
            private_dir(path.parent)        # a folder this creates on the way is as private as the one asked for
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            return private_dir(path)
        os.chmod(path, 0o700)       # mkdir's mode is masked by the umask
        return path
    if not stat.S_ISDIR(st.st_mode):
        raise LocalError(f"{path}: exists and is not a folder (a link or a file): remove it, or choose another "
                         "folder (--workdir / STACKKIT_LOCAL_DIR)")
    if st.st_uid != os.geteuid():
        raise LocalError(f"{path}: owned by uid {st.st_uid}, not by this user ({os.geteuid()}): the local cloud keeps "
                         "its keys and state there; remove it or choose another folder (--workdir / STACKKIT_LOCAL_DIR)")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise LocalError(f"{path}: writable by its group or others (mode {stat.S_IMODE(st.st_mode):o}): the local cloud "
                         f"keeps its keys and state there; `chmod 700 {path}`, or choose another folder")
    return path


def write_private(path: Path, data: str | bytes) -> None:
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
