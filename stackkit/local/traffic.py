"""Traffic through a frontend while a change is applied: GET requests in a loop, bounded in count and time, each
URL unique so varnish passes it to Zope; what failed is counted. Only ever aimed at the local machines."""

from __future__ import annotations

import itertools
import threading
import time
import urllib.request

# one number per Traffic of this process: its URLs differ from every earlier one's, which varnish may still hold
# (a frontend keeps a response for its ttl and serves it stale for its grace, an hour by default)
_RUNS = itertools.count(1)


class Traffic(threading.Thread):
    """GET requests through the frontend in a loop (each URL unique, so varnish passes them to Zope), bounded in
    count and time; counts what failed."""

    def __init__(self, url: str, max_requests: int = 20000, max_seconds: float = 600, timeout: float = 10) -> None:
        super().__init__(daemon=True)
        self.url, self.max_requests, self.max_seconds, self.timeout = url, max_requests, max_seconds, timeout
        self.sent = self.failed = 0
        self.errors: list[str] = []
        self.run_id = f"{int(time.time())}-{next(_RUNS)}"
        self.t0 = time.time()           # when the loop began (wall clock: lifecycle runs report theirs)
        self._halt = threading.Event()

    def run(self) -> None:
        self.t0 = time.time()
        start = time.monotonic()
        while not self._halt.is_set() and self.sent < self.max_requests and time.monotonic() - start < self.max_seconds:
            self.sent += 1
            try:
                with urllib.request.urlopen(f"{self.url}?run={self.run_id}&n={self.sent}", timeout=self.timeout) as r:
                    if r.status != 200:
                        raise OSError(f"HTTP {r.status}")
            except Exception as exc:  # noqa: BLE001 - every failure counts
                self.failed += 1
                if len(self.errors) < 10:
                    self.errors.append(f"#{self.sent} at {time.monotonic() - start:.1f} s: {exc}")
            time.sleep(0.02)

    def stop(self) -> Traffic:
        self._halt.set()
        self.join(30)
        return self
