"""The local cloud's auto-healing alarm for one machine: what CloudWatch and EC2's recover action do on AWS.

    python -m stackkit.local.healer WORKDIR MACHINE [--bridge B --subnet S --base-dir D]   (started by Fleet.heal)

Every second it looks at the machine's systemd-nspawn: when it has died without `Fleet.stop` (which records pid 0
first) for CHECKS checks in a row (the alarm's evaluation periods, in seconds here), the machine boots again from its
own tree (`Fleet.recover`): same address, host key, volumes and files, as a recovered EC2 instance keeps its id,
private IP, Elastic IP and EBS volumes. It exits when the machine leaves the fleet or its healing is turned off.
Each recovery is counted in the machine's fleet entry (`recoveries`, by `Fleet.recover`) and logged to
<WORKDIR>/<MACHINE>.healer.log.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from stackkit.errors import LocalError
from stackkit.local.machines import Fleet, alive

CHECKS = 2          # StatusCheckFailed_System's evaluation periods (2 x 60 s on AWS; 2 x 1 s here)
INTERVAL = 1.0


def watch(fleet: Fleet, name: str) -> int:
    misses = 0
    while True:
        entry = fleet.state().get(name)
        if entry is None or not entry.get("heal"):
            return 0
        pid = int(entry.get("pid") or 0)
        misses = 0 if pid == 0 or alive(pid) else misses + 1     # pid 0: stopped on purpose
        if misses >= CHECKS:
            t0 = time.monotonic()
            try:
                fleet.recover(name)
            except LocalError as exc:
                print(f"{time.strftime('%FT%T')} {name}: recovery failed, trying again: {exc}", flush=True)
            else:
                print(f"{time.strftime('%FT%T')} {name}: recovered (pid {pid} had died) in "
                      f"{time.monotonic() - t0:.1f} s", flush=True)
            misses = 0
        time.sleep(INTERVAL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m stackkit.local.healer", description=__doc__.split("\n\n")[0])
    ap.add_argument("workdir", type=Path)
    ap.add_argument("machine")
    ap.add_argument("--bridge", default="skbr0")
    ap.add_argument("--subnet", default="10.213.0.0/24")
    ap.add_argument("--base-dir", type=Path)
    args = ap.parse_args(argv)
    return watch(Fleet(args.workdir, bridge=args.bridge, subnet=args.subnet, base_dir=args.base_dir), args.machine)


if __name__ == "__main__":
    sys.exit(main())
