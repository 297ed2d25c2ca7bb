"""The mixed scenario's stale-read sampler: an acknowledged write, then a read of the row it wrote.

The wrk mix never writes the hottest products (bench/wrk_report.lua, BENCH_PROBES): the sampler owns them.
In turn it sets one's stock to a value it has not used before, waits for the 200, then reads the aggregate
of a hot user with that product, the read most likely to be cached. An answer with another stock is a read
that returned a value older than an acknowledged write to it: a stale read. One pair at a time on its own
keep-alive connection, beside wrk, through the same front door (our gateway or the monolith).
"""

import itertools
import threading
import time
import uuid

import httpx

EXAMPLES_KEPT = 5


class Sampler:
    """A thread that writes then reads hot rows until the block ends; summary() says what it saw."""

    def __init__(self, base_url: str, headers: dict, products: list[int], users: list[int], *, pause: float = 0.02):
        self.base_url, self.headers, self.products, self.users, self.pause = base_url, headers, products, users, pause
        self.counts = {"samples": 0, "stale": 0, "write_errors": 0, "read_errors": 0}
        self.examples: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stale-sampler", daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def summary(self) -> dict:
        return {**self.counts, "examples": self.examples}

    def _run(self) -> None:
        # Stock values no earlier run used: they only have to differ from every value the row held before.
        value = 1_000_000_000 + int(time.time() * 10) % 1_000_000_000
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=10) as client:
            for index in itertools.count():
                if self._stop.is_set():
                    return
                product, user = self.products[index % len(self.products)], self.users[index % len(self.users)]
                value += 1
                self._sample(client, user, product, value)
                self._stop.wait(self.pause)

    def _sample(self, client: httpx.Client, user: int, product: int, value: int) -> None:
        try:
            written = client.patch(
                f"/api/products/{product}/", json={"stock": value}, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
        except httpx.HTTPError:
            written = None
        if written is None or written.status_code != 200:
            self.counts["write_errors"] += 1
            return
        try:
            read = client.get(f"/api/{user}/{product}/")
            observed = read.json()["product"]["stock"] if read.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError):
            observed = None
        if observed is None:
            self.counts["read_errors"] += 1
            return
        self.counts["samples"] += 1
        if observed != value:
            self.counts["stale"] += 1
            if len(self.examples) < EXAMPLES_KEPT:
                example = {
                    "product": product,
                    "written": value,
                    "read": observed,
                    "x_cache": read.headers.get("X-Cache"),
                }
                self.examples.append(example)
