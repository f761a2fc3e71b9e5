"""Traffic through a frontend while a change is applied: GET requests in a loop, bounded in count and time, each
URL unique so varnish passes it to Zope; what failed is counted. Only ever aimed at the local machines."""

from __future__ import annotations

import threading
import time
import urllib.request


class Traffic(threading.Thread):
    """GET requests through the frontend in a loop (each URL unique, so varnish passes them to Zope), bounded in
    count and time; counts what failed."""

    def __init__(self, url: str, max_requests: int = 20000, max_seconds: float = 600, timeout: float = 10) -> None:
        super().__init__(daemon=True)
        self.url, self.max_requests, self.max_seconds, self.timeout = url, max_requests, max_seconds, timeout
        self.sent = self.failed = 0
        self.errors: list[str] = []
        self._halt = threading.Event()

    def run(self) -> None:
        start = time.monotonic()
        while not self._halt.is_set() and self.sent < self.max_requests and time.monotonic() - start < self.max_seconds:
            self.sent += 1
            try:
                with urllib.request.urlopen(f"{self.url}?n={self.sent}", timeout=self.timeout) as r:
                    if r.status != 200:
                        raise OSError(f"HTTP {r.status}")
            except Exception as exc:  # noqa: BLE001 - every failure counts
                self.failed += 1
                if len(self.errors) < 10:
                    self.errors.append(f"#{self.sent}: {exc}")
            time.sleep(0.02)

    def stop(self) -> Traffic:
        self._halt.set()
        self.join(30)
        return self
