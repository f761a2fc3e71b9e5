"""A process in a network namespace of its own, with only a loopback interface: where a records-only local stack
runs, so that its hosts (stackkit.local.hosts) can listen on port 22 of their loopback addresses whatever this
machine runs, and nothing outside can reach them.

`run(module, request)` runs `python -m <module> REQUEST RESULT` under `unshare --net` (as root) or
`unshare --net --map-root-user` (an unprivileged user, where the kernel allows user namespaces), with the loopback
interface up, and returns the JSON the module wrote to RESULT. Where no namespace can be made, it says how to get one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from stackkit.errors import LocalError
from stackkit.paths import ROOT

MARK = "STACKKIT_NETNS"        # set in the namespace: a nested run does not unshare again


def run(module: str, request: dict[str, Any], timeout: float = 3600) -> dict[str, Any]:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        raise LocalError("a records-only local stack runs in a network namespace of its own: install util-linux "
                         "(unshare) and iproute2 (ip)")
    with tempfile.TemporaryDirectory(prefix="stackkit-netns-") as tmp:
        req, res = Path(tmp) / "request.json", Path(tmp) / "result.json"
        req.write_text(json.dumps(request))
        user = [] if os.geteuid() == 0 else ["--map-root-user"]
        argv = ["unshare", "--net", *user, "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                sys.executable, "-m", module, str(req), str(res)]
        env = {**os.environ, MARK: "1",
               "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if out.returncode != 0 and not res.exists():
            if "Operation not permitted" in out.stderr and not user == []:
                raise LocalError("this machine does not let an unprivileged user make a network namespace "
                                 "(unshare --net --map-root-user): run as root, or allow user namespaces "
                                 "(sysctl kernel.unprivileged_userns_clone=1)")
            raise LocalError(f"python -m {module} failed ({out.returncode}):\n{(out.stderr or out.stdout)[-3000:]}")
        result: dict[str, Any] = json.loads(res.read_text())
        return result
