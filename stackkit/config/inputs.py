"""The shape of free-text config values that reach a shell, a daemon's config file or git: control characters, host
names, source URLs, git revisions, mount points and PEM blocks. Each function returns the problem (None: fine), so the
models can name the path and the checks can reuse them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

# --- control characters ------------------------------------------------------------------------------------------------

# Paths (as dotted patterns, * = any one key) where multi-line text is the value's nature: PEM blocks, keys and
# environment values. Tabs and newlines are allowed there; every other control character is refused everywhere.
MULTILINE = (
    ("stack", "ssh_private_key"),
    ("apps", "*", "ssl", "certificate"), ("apps", "*", "ssl", "key"), ("apps", "*", "ssl", "chain"),
    ("apps", "*", "environment", "*"), ("apps", "*", "secret_environment", "*"),
)
_MULTILINE_OK = {"\n", "\r", "\t"}


def _multiline(parts: tuple[str, ...]) -> bool:
    return any(len(p) == len(parts) and all(a in ("*", b) for a, b in zip(p, parts, strict=True)) for p in MULTILINE)


def _bad_char(text: str, multiline: bool) -> str | None:
    for c in text:
        if unicodedata.category(c) == "Cc" and not (multiline and c in _MULTILINE_OK):
            return c
    return None


def control_characters(value: Any, parts: tuple[str, ...] = ()) -> Iterator[str]:
    """'path: problem' for every key or string in raw config data that holds a control character (NUL, ESC, a
    newline outside multi-line fields...). Secret values are named by path only."""
    path = ".".join(parts)
    if isinstance(value, str):
        c = _bad_char(value, _multiline(parts))
        if c is not None:
            where = "a newline or tab" if c in _MULTILINE_OK else f"the control character U+{ord(c):04X}"
            yield (f"{path}: contains {where}; only PEM blocks, keys and environment values may span lines, and no "
                   "value may hold other control characters: remove it")
    elif isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            if _bad_char(key, False) is not None:
                yield f"{path or '(top)'}: a key holds a control character ({key.encode('unicode_escape').decode()!r}); remove it"
                continue
            yield from control_characters(v, (*parts, key))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from control_characters(v, (*parts[:-1], f"{parts[-1]}[{i}]") if parts else (f"[{i}]",))


# --- host names --------------------------------------------------------------------------------------------------------

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def domain_problem(domain: str) -> str | None:
    """RFC 1123 host name (lowercase, labels of letters, digits and inner hyphens, at most 63 each and 253 in all); a
    wildcard only as a leading '*.'."""
    if domain != domain.lower():
        return f"domains are lowercase; write {domain.lower()!r}"
    name = domain[2:] if domain.startswith("*.") else domain
    if not name or len(domain) > 253:
        return "a domain name has 1 to 253 characters (RFC 1123)"
    labels = name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return ("is not a host name: dot-separated labels of lowercase letters, digits and '-' (not at either end, at "
                "most 63 each; RFC 1123), a wildcard only as a leading '*.', e.g. www.example.org")
    return None


# --- app sources -------------------------------------------------------------------------------------------------------

_HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
_URL_TAIL = r"[A-Za-z0-9\-._~!$&()*+,;=:@%/?#\[\]]*"
_GIT_URL = re.compile(rf"^(?:(?:https|ssh|git)://(?:[A-Za-z0-9._~%-]+@)?(?:{_HOST}|\[[0-9a-fA-F:.]+\])(?::\d{{1,5}})?"
                      rf"(?:/{_URL_TAIL})?|file:///{_URL_TAIL}|[A-Za-z0-9][A-Za-z0-9._-]*@{_HOST}:{_URL_TAIL})$")
# userinfo of an http(s) URL (RFC 3986 3.2.1): anything before an '@' in the authority
_USERINFO = re.compile(r"https?://[^/?#]*@.*", re.IGNORECASE | re.DOTALL)
_ARCHIVE_URL = re.compile(rf"^https?://(?:{_HOST}|\[[0-9a-fA-F:.]+\])(?::\d{{1,5}})?/{_URL_TAIL}$")


def without_userinfo(url: str) -> str:
    """The URL as it may be shown: credentials in it replaced by '***' (an error message never repeats a token)."""
    return re.sub(r"(?i)^(https?://)[^/?#]*@", r"\1***@", url) if _USERINFO.fullmatch(url) else url


def source_url_problem(kind: str, url: str) -> str | None:
    if any(c.isspace() or unicodedata.category(c) == "Cc" or c in "'\"`\\" for c in url):
        return "holds spaces, quotes, backslashes or control characters; a source URL has none (percent-encode them)"
    if _USERINFO.fullmatch(url):
        return ("carries credentials (user[:password]@) in an http(s) URL, where they would land in outputs, logs and "
                "process lists; write the URL without them, the user as source.username and the token as the secret "
                "source.password (pulumi config set --secret --path 'stackkit:apps.<app>.source.password' < token-file)")
    if kind == "archive":
        if not _ARCHIVE_URL.fullmatch(url):
            return "is not an archive URL: http(s)://host/path/to/release.tar.gz"
    elif not _GIT_URL.fullmatch(url):
        return ("is not a git URL git accepts here: https://host/repo.git, ssh://[user@]host/repo.git, git://host/repo, "
                "file:///path/repo or user@host:path/repo.git")
    return None


_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def git_revision_problem(rev: str) -> str | None:
    """A branch, tag or commit that `git check-ref-format --allow-onelevel` accepts (and does not start with '-')."""
    bad = (_REF_FORBIDDEN.search(rev) or ".." in rev or "@{" in rev or "//" in rev or rev in ("@", "")
           or rev.startswith(("-", "/")) or rev.endswith(("/", ".", ".lock"))
           or any(part.startswith(".") or part.endswith(".lock") for part in rev.split("/")))
    if bad:
        return (f"{rev!r} is not a git revision: a tag, branch or commit without spaces, '..', '@{{', control characters "
                "or any of ~^:?*[\\, not starting with '-' or '/' nor ending with '/', '.' or '.lock' "
                "(git check-ref-format), e.g. v1.2.0")
    return None


# --- mount points ------------------------------------------------------------------------------------------------------

_MOUNT = re.compile(r"^/[A-Za-z0-9._/-]+$")
# Mounting a volume over these hides what the OS (or stackkit) keeps there: refused, with everything under them.
SYSTEM_SUBTREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc",
                   "/sys", "/run", "/root", "/tmp", "/home", "/var/tmp", "/var/run", "/var/lock", "/var/cache",
                   "/var/spool", "/var/mail", "/var/lib/dpkg", "/var/lib/apt", "/var/lib/systemd", "/var/lib/ucf",
                   "/srv/apps")
# Parents of places for data: refused themselves, fine below (/var/lib/x, /srv/x, /mnt/x, /opt/x).
SYSTEM_DIRS = ("/var", "/var/lib", "/var/log", "/var/backups", "/var/local", "/var/opt", "/srv", "/mnt", "/media",
               "/opt")
SYSTEM_PATH_HINT = "mount a volume at a folder of its own such as /srv/<name>, /data/<name>, /mnt/<name> or /var/lib/<name>"


def mount_point_problem(path: str) -> str | None:
    if not _MOUNT.fullmatch(path) or "//" in path or path.endswith("/") or any(
            part in (".", "..") for part in path.split("/")):
        return ("is not a plain absolute path: letters, digits and ._- in '/'-separated parts, without '.', '..', "
                "'//' or a trailing '/'")
    for top in SYSTEM_SUBTREES:
        if path == top or path.startswith(top + "/"):
            return f"is {'' if path == top else 'inside '}{top}, which the system (or stackkit) uses"
    if path in SYSTEM_DIRS:
        return "is a system folder; a volume mounted there hides what it holds"
    return None


# --- PEM -------------------------------------------------------------------------------------------------------------

_B64_LINE = r"[A-Za-z0-9+/=]{1,76}\n"


def _pem_block(label: str) -> str:
    return rf"-----BEGIN {label}-----\n(?:{_B64_LINE})+-----END {label}-----\n"


_KEY_LABELS = r"(?P<label>PRIVATE KEY|RSA PRIVATE KEY|EC PRIVATE KEY)"
_KEY = re.compile(rf"^-----BEGIN {_KEY_LABELS}-----\n(?:{_B64_LINE})+-----END (?P=label)-----\n$")


def normalise_pem(text: str, label: str, *, many: bool, secret: bool = False) -> str:
    """The PEM text with CRLF read as LF and one final newline; ValueError when anything but the block(s) is there."""
    pem = text.replace("\r\n", "\n").strip("\n") + "\n"
    if label == "PRIVATE KEY":
        ok = bool(_KEY.fullmatch(pem))
        what = "a PEM private key: one -----BEGIN PRIVATE KEY----- (or RSA / EC PRIVATE KEY) block of base64 lines"
    else:
        block = _pem_block(label)
        ok = bool(re.fullmatch(rf"(?:{block})+" if many else block, pem))
        what = (f"PEM: {'one or more' if many else 'one'} -----BEGIN {label}----- ... -----END {label}----- "
                f"block{'s' if many else ''} of base64 lines")
    if not ok:
        shown = "" if secret else " (text before, between or after the blocks included)"
        raise ValueError(f"must be {what}, nothing else{shown}; set it from the file as it is "
                         "(pulumi config set [--secret] --path 'stackkit:apps.<app>.ssl.<field>' < file.pem)")
    return pem
