"""Bounded load from the test process: loopback only, capped in request count and time."""

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class LoadResult:
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    bodies_of_failures: list[str] = field(default_factory=list)
    stale_connection_retries: int = 0
    cache_states: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def failures(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 400) + sum(self.errors.values())

    def summary(self) -> str:
        return (
            f"{self.total} requests: statuses {dict(self.statuses)}, errors {dict(self.errors)}, "
            f"stale keep-alive retries {self.stale_connection_retries}"
        )


class Load:
    """Run GETs against a URL from a few threads until stopped, a deadline, or a request cap."""

    def __init__(
        self,
        url: str,
        *,
        concurrency: int = 6,
        max_seconds: float = 60,
        max_requests: int = 20000,
        timeout: float = 10,
        headers: dict | None = None,
    ):
        self.url = url
        self.concurrency = concurrency
        self.deadline = time.monotonic() + max_seconds
        self.max_requests = max_requests
        self.timeout = timeout
        self.headers = headers or {}
        self.result = LoadResult()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._worker, daemon=True) for _ in range(concurrency)]

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> LoadResult:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        return self.result

    def join(self) -> LoadResult:
        """Wait for the load to end by itself (its deadline or its request cap)."""
        for thread in self._threads:
            thread.join()
        return self.result

    def wait_for(self, count: int, timeout: float = 30) -> None:
        """Block until at least `count` requests are done (poll, bounded)."""
        end = time.monotonic() + timeout
        while self.result.total < count and time.monotonic() < end:
            time.sleep(0.05)

    def _get(self, client: httpx.Client) -> httpx.Response:
        """GET, replayed once if a reused keep-alive connection closed under it (RFC 9112 §9.3.1),
        as curl and browsers do; such replays are counted, never hidden."""
        try:
            return client.get(self.url)
        except httpx.RemoteProtocolError:
            with self._lock:
                self.result.stale_connection_retries += 1
            return client.get(self.url)

    def _worker(self) -> None:
        with httpx.Client(timeout=self.timeout, headers=self.headers) as client:
            while not self._stop.is_set() and time.monotonic() < self.deadline:
                with self._lock:
                    if self.result.total >= self.max_requests:
                        return
                started = time.monotonic()
                try:
                    response = self._get(client)
                except httpx.HTTPError as exc:
                    with self._lock:
                        self.result.errors[type(exc).__name__] += 1
                    continue
                with self._lock:
                    self.result.statuses[response.status_code] += 1
                    self.result.cache_states[response.headers.get("X-Cache", "-")] += 1
                    self.result.latencies.append(time.monotonic() - started)
                    if response.status_code >= 400 and len(self.result.bodies_of_failures) < 5:
                        self.result.bodies_of_failures.append(response.text[:300])
