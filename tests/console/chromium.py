"""Debian's headless Chromium on a page file: the text of its rendered DOM and a screenshot (scripts/setup installs
the `chromium` package)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--hide-scrollbars", "--disable-extensions"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed: run scripts/setup (as root) to install Debian's chromium")
    return exe


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                              text=True, timeout=120, check=False)


def dom_text(page: Path) -> str:
    """The text of the page's DOM as Chromium rendered it (tags dropped, entities decoded, blanks folded)."""
    out = _run("--dump-dom", page.resolve().as_uri())
    assert out.returncode == 0 and "<body" in out.stdout, out.stderr[-2000:]
    body = re.sub(r"(?s)<(style|script)\b.*?</\1>", " ", out.stdout)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def screenshot(page: Path, png: Path, size: str = "1280,2000") -> Path:
    out = _run(f"--screenshot={png}", f"--window-size={size}", page.resolve().as_uri())
    assert out.returncode == 0 and png.exists() and png.stat().st_size > 10_000, out.stderr[-2000:]
    return png
