"""Running lifecycle bundles for real on a stand-in host (host.yaml, sandbox.sh): bash executes the whole bundle, every
external command is a stub that records its argv, and every write lands in the case's own folder.

The process is never root on this machine: as root it first drops to `nobody`, then enters an unprivileged user
namespace (root there, nobody here) with private mounts and network. A value that escapes its quoting can only create
files inside the overlays, where the checks look for them.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from stackkit.lifecycle.bundle import rendered

HERE = Path(__file__).parent
HOST = YAML(typ="safe").load((HERE / "host.yaml").read_text())
NOBODY = 65534
MARKER = "SKPWNED"           # every payload that runs code creates a file whose name holds this
OVERLAID = ("etc", "srv", "var", "usr", "run", "opt", "tmp")     # sandbox.sh lays an overlay over each


def mounts_under_overlaid(mountinfo: str) -> list[str]:
    """The mount points strictly under a directory sandbox.sh overlays (field 5 of /proc/self/mountinfo, octal
    escapes undone). The kernel refuses an overlay in a user namespace whose lower directory has mounts under it
    (dmesg: "overlayfs: failed to clone lowerpath"): `ip netns` leaves /run/netns, a login session /run/user/<uid>."""
    points = [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
              for line in mountinfo.splitlines() if line.strip()]
    return sorted(p for p in points if any(p.startswith(f"/{d}/") for d in OVERLAID))


@dataclass
class Call:
    argv: list[str]
    stdin: bytes


@dataclass
class Step:
    bundle: str
    event: str
    rc: int
    stderr: str


@dataclass
class Run:
    steps: list[Step]
    calls: list[Call]
    files: dict[str, bytes]              # path on the host -> content, as written before the last snapshot
    written: list[str]                   # every path written during the whole run (after the snapshot too)
    markers: list[str]                   # paths holding MARKER: code a value smuggled in ran
    error: str = ""                      # the sandbox itself failed (not the bundle)
    extra: dict[str, Any] = field(default_factory=dict)


def _stub_script() -> str:
    cases = []
    for name, spec in sorted(HOST["stubs"].items()):
        body = []
        if spec.get("smart"):
            body.append("sk_smart_install \"$@\" || exit 1")
        if "stdout" in spec:
            body.append(f"printf '%s' {shlex.quote(str(spec['stdout']))}")
        body.append(f"exit {int(spec.get('exit', 0))}")
        cases.append(f"  {shlex.quote(name)}) {'; '.join(body)} ;;")
    return "\n".join([
        "#!/bin/bash",
        "# a stubbed command of tests/adversarial/host.yaml: record argv and stdin, behave as host.yaml says",
        "name=${0##*/}",
        "stdin=''",
        f"case $name in {'|'.join(sorted(n for n, v in HOST['stubs'].items() if v.get('stdin')))}) stdin=$(base64 -w0) ;; esac",
        "printf '%s\\0' \"$name\" \"$#\" \"$@\" \"$stdin\" >> \"$SK_LOG\"",
        "sk_smart_install() {",
        "  local dir=0 parents=0 mode='' args=()",
        "  while [ $# -gt 0 ]; do",
        "    case $1 in -d) dir=1 ;; -D) parents=1 ;; -m|-o|-g) [ \"$1\" = -m ] && mode=$2; shift ;;",
        "      -*) ;; *) args+=(\"$1\") ;; esac",
        "    shift",
        "  done",
        "  if [ $dir = 1 ]; then mkdir -p \"${args[@]}\" && { [ -z \"$mode\" ] || chmod \"$mode\" \"${args[@]}\"; }; return; fi",
        "  local dest=${args[-1]}",
        "  [ $parents = 1 ] && mkdir -p \"$(dirname \"$dest\")\"",
        "  cp \"${args[0]}\" \"$dest\" && { [ -z \"$mode\" ] || chmod \"$mode\" \"$dest\"; }",
        "}",
        "case $name in",
        *cases,
        "  stub) exit 0 ;;",
        "  *) exit 0 ;;",
        "esac",
        "",
    ])


@contextmanager
def host_tools() -> Iterator[Path]:
    """The tools folder every run shares: bin/ (stubs + real tools), the driver, the lists sandbox.sh reads."""
    under = mounts_under_overlaid(Path("/proc/self/mountinfo").read_text())
    if under:
        raise AssertionError(f"the stand-in host overlays /{', /'.join(OVERLAID)}, and this machine has mounts under "
                             f"them: {', '.join(under)}; the kernel refuses such an overlay in a user namespace. "
                             "Unmount them (umount /run/netns after `ip netns`), or run these tests on a machine "
                             "without them (CI's is one)")
    base = Path(tempfile.mkdtemp(prefix="sk-adversarial-"))
    try:
        tools = base / "tools"
        (tools / "bin").mkdir(parents=True)
        stub = tools / "bin/stub"
        stub.write_text(_stub_script())
        stub.chmod(0o755)
        for name in HOST["stubs"]:
            (tools / "bin" / name).symlink_to("stub")
        for name in HOST["real"]:
            real = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
            assert real, f"{name} (host.yaml real) is not installed on this machine"
            (tools / "bin" / name).symlink_to(real)
        (tools / "bin/bash").symlink_to(shutil.which("bash") or "/bin/bash")
        shutil.copy(HERE / "sandbox.sh", tools / "sandbox.sh")
        (tools / "absolute").write_text("".join(f"{p}\n" for p in HOST["absolute"]))
        (tools / "writable").write_text("".join(f"{p}\n" for p in HOST["writable"]))
        (tools / "fresh").write_text("".join(f"{p}\n" for p in HOST["fresh"]))
        (tools / "copied").write_text("".join(f"{p}\n" for p in HOST["copied"]))
        (tools / "scripts").write_text("".join(f"{p}\n" for p in HOST["scripts"]))
        (tools / "devices").write_text("".join(f"{d}\n" for d in HOST["devices"]))
        for p in [base, *base.rglob("*")]:
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() or os.access(p, os.X_OK) else 0o644)
        base.chmod(0o755)
        (base / "cases").mkdir(mode=0o755)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _calls(raw: bytes) -> list[Call]:
    parts = raw.split(b"\0")
    out, i = [], 0
    while i + 1 < len(parts):
        name = parts[i].decode(errors="replace")
        argc = int(parts[i + 1])
        args = [p.decode(errors="replace") for p in parts[i + 2:i + 2 + argc]]
        stdin = base64.b64decode(parts[i + 2 + argc]) if parts[i + 2 + argc] else b""
        out.append(Call([name, *args], stdin))
        i += 3 + argc
    return out


def _tree(root: Path) -> dict[str, Path]:
    """host path -> file in an overlay's upper folder (regular files and symlinks; whiteouts and folders skipped)."""
    out = {}
    if not root.exists():
        return out
    for d in sorted(root.iterdir()):
        for p in [d, *d.rglob("*")] if d.is_dir() else [d]:
            if p.is_symlink() or p.is_file():
                out["/" + str(p.relative_to(root))] = p
    return out


def run(base: Path, name: str, steps: list[tuple[str, str]], *, resume: tuple[Path, int] | None = None,
        keep: bool = False) -> Run:
    """Run `steps` ((command stdin, event), in order; each runs the script its job renders) on a fresh stand-in host. The installed scripts (host.yaml `scripts`)
    run before the first undeploy, and the written files are read there (undeploy removes what deploy wrote).

    `resume=(baseline case folder, k)` starts from the files the baseline had after its step k and runs steps k+1...
    `keep=True` keeps the case folder with a copy of the files after every step (a baseline to resume from)."""
    case = base / "cases" / name
    case.mkdir()
    first = 0
    if resume is not None:
        first = resume[1] + 1
        (case / "start").write_text(str(resume[0] / f"after-{resume[1]}"))
    plan, snap = [], False
    for i, (text, event) in enumerate(steps):
        if event == "undeploy" and not snap:
            plan += [f"exec {p} -" for p in HOST["scripts"]] + ["snapshot snapshot -"]
            snap = True
        if i >= first:
            (case / f"b{i}.sh").write_text(rendered(text))
            plan.append(f"run b{i}.sh {event}")
        if keep:
            plan.append(f"snapshot after-{i} -")
    if not snap:
        plan += [f"exec {p} -" for p in HOST["scripts"]] + ["snapshot snapshot -"]
    (case / "plan").write_text("\n".join(plan) + "\n")
    drop: list[str] = []
    if os.geteuid() == 0:
        for p in [case, *case.iterdir()]:
            os.chown(p, NOBODY, NOBODY)
        drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    cmd = [*drop, "unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--kill-child",
           "bash", str(base / "tools/sandbox.sh"), str(case), str(base / "tools")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    out = case / "out"
    error = "" if proc.returncode == 0 else f"sandbox exit {proc.returncode}: {proc.stderr.strip()[-400:]}"
    result = []
    for line in (out / "steps").read_text().splitlines() if (out / "steps").exists() else []:
        n, bundle, event, rc = line.split(" ")
        result.append(Step(bundle, event, int(rc), (out / f"{n}.stderr").read_text(errors="replace")))
    ran = sum(1 for ln in plan if ln.startswith("run "))
    if not error and sum(1 for s in result if s.event != "-") != ran:
        error = f"sandbox ran {len(result)} of {ran} steps: {proc.stderr.strip()[-400:]}"
    calls = _calls((out / "calls").read_bytes()) if (out / "calls").exists() else []
    final = _tree(case / "upper")
    files = {p: (f.read_bytes() if not f.is_symlink() else b"-> " + os.readlink(f).encode())
             for p, f in _tree(case / "snapshot").items()}
    markers = sorted(p for p in final if MARKER in p) + sorted(p for p in files if MARKER in p)
    result_ = Run(steps=result, calls=calls, files=files, written=sorted(final), markers=sorted(set(markers)), error=error)
    if not keep:
        shutil.rmtree(case, ignore_errors=True)
    return result_
