"""The local cloud's private folders and files (stackkit.local.files), and which secure values a local stack sets
anew (stackkit.local.stack): pure, no engine."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stackkit.config.patch import apply
from stackkit.config.stackfile import read_stack_file
from stackkit.errors import LocalError
from stackkit.local.files import private_dir, write_private
from stackkit.local.stack import _drop, _lookup
from stackkit.paths import ROOT


def test_a_new_folder_is_0700_whatever_the_umask(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    old = os.umask(0)
    try:
        made = private_dir(tmp_path / "a" / "cloud" / "fleet")
    finally:
        os.umask(old)
    # and so is every folder it made on the way (the local cloud's `cloud/` was 0755 when `fleet/` came first)
    for folder in (made, made.parent, made.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755              # a folder that was there is left as it was


@pytest.mark.parametrize("mode", [0o770, 0o757, 0o777])
def test_a_folder_others_can_write_is_refused(tmp_path: Path, mode: int) -> None:
    d = tmp_path / "shared"
    d.mkdir()
    d.chmod(mode)
    with pytest.raises(LocalError, match="writable by its group or others"):
        private_dir(d)


def test_a_link_or_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "file").write_text("x")
    for name in ("link", "file"):
        with pytest.raises(LocalError, match="not a folder"):
            private_dir(tmp_path / name)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a folder to another user needs root")
def test_a_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "theirs"
    d.mkdir(mode=0o700)
    os.chown(d, 65534, 65534)
    with pytest.raises(LocalError, match="owned by uid 65534"):
        private_dir(d)


def test_a_private_file_is_0600_from_its_first_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file is opened 0600 (O_EXCL) before anything is written: no window where another user could open it."""
    opened: list[tuple[str, int]] = []
    real_open = os.open

    def spy(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        opened.append((str(path), mode))
        return real_open(path, flags, mode, **kw)  # type: ignore[arg-type]
    monkeypatch.setattr(os, "open", spy)
    old = os.umask(0)
    try:
        write_private(tmp_path / "secrets.json", "{}")
    finally:
        os.umask(old)
    assert [m for p, m in opened if "secrets.json" in p] == [0o600]
    assert stat.S_IMODE((tmp_path / "secrets.json").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secrets.json"]


def test_the_secure_values_of_the_shipped_production_stack_are_set_anew() -> None:
    sf = read_stack_file(ROOT / "Pulumi.production.yaml")
    assert "stackkit:stack.ssh_private_key" in sf.placeholders
    assert "stackkit:apps.site.secret_environment.ADMIN_PASSWORD" in sf.placeholders
    config = sf.config
    for path, placeholder in sf.placeholders.items():
        assert _lookup(config, path) == placeholder, path
    _drop(config, "stackkit:stack.ssh_private_key")
    assert _lookup(config, "stackkit:stack.ssh_private_key") is None


def test_a_removed_app_takes_its_secrets_with_it() -> None:
    sf = read_stack_file(ROOT / "Pulumi.production.yaml")
    changed = apply(sf.config, {"-apps.site": None})
    assert _lookup(changed, "stackkit:apps.site.secret_environment.ADMIN_PASSWORD") is None
    assert _lookup(sf.config, "stackkit:apps.site.secret_environment.ADMIN_PASSWORD") is not None
