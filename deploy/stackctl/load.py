"""Bounded load through the gateway that hides nothing: every client request, every attempt, every outcome.

`manage_all.sh drill` and the fault tests (tests/e2e) run it. A client request is one logical call: a
read, a keyed create or a keyed PATCH. Its attempts are the HTTP exchanges made for it:
- "first": the first try;
- "replay": a reused keep-alive connection closed before any answer, so an idempotent or keyed request is
  sent once more, as RFC 9112 §9.3.1 allows and curl and browsers do; an unkeyed write never is;
- "retry": with retry_writes, a keyed write answered 503 (with Retry-After) or 409 idempotency_key_in_flight
  is sent again with the same key after the wait, as a careful client does.
Each attempt carries its own X-Request-ID, <run>-<number>.<attempt>, so every tier's log says how many
attempts it made for one attempt of the client (stackctl.audit).

Reads that no cache can answer are aggregates of a user and a product no one has read (FreshPairs);
"hot" reads repeat one URL, the kind a cache answers; "search" reads are product searches never made
before, so they always need the database; "check" reads the client's own product after its PATCH and
counts a stale read if it shows an older stock.
"""

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
EXPECTED = {"GET": 200, "POST": 201, "PATCH": 200}
MAX_RETRY_WAIT = 2.0


@dataclass
class Attempt:
    request_id: str
    reason: str  # first | replay | retry
    started: float  # seconds since the load started
    seconds: float
    status: int | None = None
    error: str | None = None  # the exception's name when no answer came
    cache: str | None = None  # X-Cache
    retry_after: str | None = None
    replayed: bool = False  # Idempotent-Replayed: true
    body: str = ""  # the start of the answer, kept for failures

    @property
    def outcome(self) -> int | str:
        return self.status if self.status is not None else self.error


@dataclass
class Call:
    """What a plan asks a worker to send."""

    kind: str  # read | hot | search | create | patch | check | get
    method: str
    path: str
    json: dict | None = None
    key: str | None = None  # Idempotency-Key
    expected: int | None = None

    def __post_init__(self):
        if self.expected is None:
            self.expected = EXPECTED.get(self.method, 200)


@dataclass
class ClientRequest:
    number: int
    call: Call
    attempts: list[Attempt] = field(default_factory=list)
    answer: dict | None = None  # the final answer's JSON, when it was JSON
    stale: bool = False  # a check read that showed an older stock than the client's last acknowledged PATCH

    @property
    def final(self) -> Attempt:
        return self.attempts[-1]

    @property
    def first_answered(self) -> float:
        """When the first attempt got its answer or its error (seconds since the load started)."""
        first = self.attempts[0]
        return first.started + first.seconds

    @property
    def ok(self) -> bool:
        return self.final.status == self.call.expected

    @property
    def started(self) -> float:
        return self.attempts[0].started

    @property
    def seconds(self) -> float:
        return self.final.started + self.final.seconds - self.started


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


@dataclass
class LoadResult:
    requests: list[ClientRequest] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)  # (seconds since start, label)
    duration: float = 0.0

    @property
    def total(self) -> int:
        return len(self.requests)

    @property
    def attempts(self) -> list[Attempt]:
        return [attempt for request in self.requests for attempt in request.attempts]

    @property
    def replays(self) -> int:
        """Replays after a keep-alive connection closed before any answer (RFC 9112 §9.3.1)."""
        return sum(attempt.reason == "replay" for attempt in self.attempts)

    @property
    def retries(self) -> int:
        """Keyed writes the client sent again after a 503 or a 409 in flight (retry_writes)."""
        return sum(attempt.reason == "retry" for attempt in self.attempts)

    @property
    def failed(self) -> list[ClientRequest]:
        return [request for request in self.requests if not request.ok]

    @property
    def failures(self) -> int:
        return len(self.failed)

    @property
    def statuses(self) -> Counter:
        """Final status of each client request that got an answer."""
        return Counter(request.final.status for request in self.requests if request.final.status is not None)

    @property
    def errors(self) -> Counter:
        """Final exception of each client request that got no answer."""
        return Counter(request.final.error for request in self.requests if request.final.status is None)

    @property
    def attempt_outcomes(self) -> Counter:
        """(reason, status or exception) of every attempt: nothing a replay or retry fixed is hidden."""
        return Counter((attempt.reason, attempt.outcome) for attempt in self.attempts)

    @property
    def cache_states(self) -> Counter:
        return Counter(request.final.cache or "-" for request in self.requests)

    @property
    def latencies(self) -> list[float]:
        return [request.seconds for request in self.requests]

    @property
    def stale_reads(self) -> int:
        return sum(request.stale for request in self.requests)

    @property
    def bodies_of_failures(self) -> list[str]:
        return [f"{request.call.method} {request.call.path}: {request.final.body}" for request in self.failed[:5]]

    def of_kind(self, *kinds: str) -> list[ClientRequest]:
        return [request for request in self.requests if request.call.kind in kinds]

    def between(self, start: float, end: float) -> list[ClientRequest]:
        """Client requests whose first attempt started in [start, end) (seconds since the load started)."""
        return [request for request in self.requests if start <= request.started < end]

    def answered_between(self, start: float, end: float) -> list[ClientRequest]:
        """Client requests whose first attempt was answered (or failed) in [start, end): the span in which a
        request met what decided its fate, whatever span it was sent in."""
        return [request for request in self.requests if start <= request.first_answered < end]

    def phases(self) -> list[tuple[str, float, float, list[ClientRequest]]]:
        """(label, start, end, client requests) for each span between marks; the first is "before"."""
        bounds = [(0.0, "before"), *((at, label) for at, label in self.marks)]
        spans = []
        for (start, label), (end, _) in zip(bounds, [*bounds[1:], (self.duration + 1e9, "")], strict=True):
            spans.append((label, start, end, self.between(start, end)))
        return spans

    def summary(self) -> str:
        return (
            f"{self.total} requests: statuses {dict(self.statuses)}, errors {dict(self.errors)}, "
            f"replays {self.replays}, client retries {self.retries}, attempts {dict(self.attempt_outcomes)}"
        )


class FreshPairs:
    """Aggregates of a user and a product no one has read: the gateway composes an aggregate from its parts'
    pages, so each read takes the next user and the next product (thread-safe). Past the smaller catalogue,
    reads repeat (wrap=True, the drill on any stack) or stop the load (the tests, whose catalogue is sized)."""

    def __init__(self, user_ids: list[int], product_ids: list[int], start: int = 0, *, wrap: bool = False):
        self.user_ids, self.product_ids, self.start, self.wrap = user_ids, product_ids, start, wrap
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        return min(len(self.user_ids), len(self.product_ids))

    def next_path(self) -> str:
        with self._lock:
            used = next(self._counter)
        if used - self.start >= self.size and not self.wrap:
            raise RuntimeError(f"all {self.size} fresh (user, product) pairs are used: seed a larger catalogue")
        return f"/api/{self.user_ids[used % len(self.user_ids)]}/{self.product_ids[used % len(self.product_ids)]}/"


def catalogue(client: httpx.Client, *, pages: int = 100) -> tuple[list[int], list[int]]:
    """The ids of up to pages × 100 users and products, newest first (loads that walk ids upward, as the
    e2e tests' do, read the oldest rows), read through the gateway."""
    found = {}
    for service in ("users", "products"):
        ids = []
        for page in range(1, pages + 1):
            answer = client.get(f"/api/{service}/", params={"page_size": 100, "page": page, "ordering": "-id"})
            answer.raise_for_status()
            ids += [row["id"] for row in answer.json()["results"]]
            if not answer.json().get("next"):
                break
        found[service] = ids
    return found["users"], found["products"]


Plan = Callable[[int, "Load"], Iterator[Call]]


def repeat(path: str) -> Plan:
    """One GET, again and again."""

    def plan(worker: int, load: "Load") -> Iterator[Call]:
        while True:
            yield Call("get", "GET", path)

    return plan


def mixed(
    pairs: FreshPairs,
    *,
    reads: int = 4,
    hot_path: str | None = None,
    searches: bool = True,
    writes: bool = True,
    checks: bool = True,
) -> Plan:
    """Per cycle: `reads` fresh aggregates, a hot read, a product search no one made before (a list read:
    always the database, whatever the object caches hold), a keyed create, a keyed PATCH of one of this
    worker's products and a read of it (each worker writes only its own products, so its last acknowledged
    PATCH is what a read must show)."""

    def plan(worker: int, load: "Load") -> Iterator[Call]:
        mine: list[list] = []  # [product id, stock the last acknowledged PATCH set, or None if unknown]
        for cycle in itertools.count():
            for _ in range(reads):
                yield Call("read", "GET", pairs.next_path())
            if hot_path:
                yield Call("hot", "GET", hot_path)
            if searches:
                yield Call("search", "GET", f"/api/products/?search={load.run}-{worker}-{cycle}")
            if not writes:
                continue
            number = f"{worker}-{cycle}"
            body = {"name": f"Load {load.run} {number}", "sku": f"{load.run}-{number}", "price": "1.00"}
            created = yield Call("create", "POST", "/api/products/", json=body, key=f"{load.run}-c-{number}")
            if created.ok:
                mine.append([created.answer["id"], 0])
            if not mine:
                continue
            product = mine[cycle % len(mine)]
            stock = cycle + 1
            call = Call("patch", "PATCH", f"/api/products/{product[0]}/", {"stock": stock}, f"{load.run}-p-{number}")
            patched = yield call
            product[1] = stock if patched.ok else None  # a failed PATCH may or may not have been applied
            if checks and product[1] is not None:
                seen = yield Call("check", "GET", f"/api/products/{product[0]}/")
                seen.stale = seen.ok and seen.answer.get("stock") != product[1]

    return plan


class Load:
    """Send a plan's calls from a few threads until stopped, a deadline, or a request cap."""

    def __init__(
        self,
        target: str,
        *,
        plan: Plan | None = None,
        headers: dict | None = None,
        concurrency: int = 6,
        max_seconds: float = 60,
        max_requests: int = 20000,
        timeout: float = 10,
        retry_writes: bool = False,
        max_write_retries: int = 8,
        run: str | None = None,
    ):
        """target: the gateway's base URL with a plan, or one full URL to GET again and again."""
        if plan is None:
            parsed = httpx.URL(target)
            target, plan = str(parsed.copy_with(raw_path=b"/")).rstrip("/"), repeat(parsed.raw_path.decode())
        self.base_url = target.rstrip("/")
        self.plan = plan
        self.headers = headers or {}
        self.concurrency = concurrency
        self.max_seconds = max_seconds
        self.max_requests = max_requests
        self.timeout = timeout
        self.retry_writes = retry_writes
        self.max_write_retries = max_write_retries
        self.run = run or f"load{int(time.time() * 1000) % 10**10:010d}"
        self.result = LoadResult()
        self._numbers = itertools.count(1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started = 0.0
        self._threads = [
            threading.Thread(target=self._worker, args=(index,), daemon=True) for index in range(concurrency)
        ]

    def __enter__(self) -> "Load":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def start_and_join(self) -> LoadResult:
        """Run until the deadline or the request cap."""
        self.start()
        return self.join()

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self._started

    def mark(self, label: str) -> float:
        """Start a phase (a fault) at this instant; returns the time."""
        at = self.now()
        with self._lock:
            self.result.marks.append((at, label))
        return at

    def stop(self) -> LoadResult:
        self._stop.set()
        return self.join()

    def join(self) -> LoadResult:
        """Wait for the load to end (stop(), its deadline or its request cap)."""
        for thread in self._threads:
            thread.join()
        self.result.duration = self.now()
        self.result.requests.sort(key=lambda request: request.number)
        return self.result

    @property
    def done(self) -> int:
        return len(self.result.requests)

    def wait_for(self, count: int, timeout: float = 30) -> bool:
        """Block until at least `count` client requests are done (polling, bounded); False on timeout."""
        end = time.monotonic() + timeout
        while self.done < count:
            if time.monotonic() > end or not any(thread.is_alive() for thread in self._threads):
                return False
            time.sleep(0.02)
        return True

    def wait_for_more(self, count: int, timeout: float = 30) -> bool:
        return self.wait_for(self.done + count, timeout)

    def _worker(self, index: int) -> None:
        calls = self.plan(index, self)
        with httpx.Client(base_url=self.base_url, timeout=self.timeout, headers=self.headers) as client:
            previous = None
            while not self._stop.is_set() and self.now() < self.max_seconds:
                with self._lock:
                    number = next(self._numbers)
                if number > self.max_requests:
                    return
                call = calls.send(previous) if previous is not None else next(calls)
                request = ClientRequest(number, call)
                self._send(client, request)
                with self._lock:
                    self.result.requests.append(request)
                previous = request

    def _send(self, client: httpx.Client, request: ClientRequest) -> None:
        call = request.call
        replayable = call.method in IDEMPOTENT_METHODS or call.key is not None
        reason, retries_left, replayed_once = "first", self.max_write_retries, False
        while True:
            attempt = self._attempt(client, request, reason)
            if attempt.error == "RemoteProtocolError" and replayable and not replayed_once:
                reason, replayed_once = "replay", True
                continue
            if not (self.retry_writes and call.key and retries_left and self._retryable(attempt)):
                return
            retries_left -= 1
            time.sleep(min(MAX_RETRY_WAIT, float(attempt.retry_after or 0.5)))
            reason = "retry"

    @staticmethod
    def _retryable(attempt: Attempt) -> bool:
        return attempt.status == 503 or (attempt.status == 409 and "idempotency_key_in_flight" in attempt.body)

    def _attempt(self, client: httpx.Client, request: ClientRequest, reason: str) -> Attempt:
        call = request.call
        request_id = f"{self.run}-{request.number:06d}.{len(request.attempts) + 1}"
        headers = {"X-Request-ID": request_id}
        if call.key:
            headers["Idempotency-Key"] = call.key
        started = self.now()
        attempt = Attempt(request_id, reason, started, 0.0)
        request.answer = None
        try:
            response = client.request(call.method, call.path, json=call.json, headers=headers)
        except httpx.HTTPError as exc:
            attempt.error = type(exc).__name__
        else:
            attempt.status = response.status_code
            attempt.cache = response.headers.get("X-Cache")
            attempt.retry_after = response.headers.get("Retry-After")
            attempt.replayed = response.headers.get("Idempotent-Replayed") == "true"
            if response.status_code != call.expected:
                attempt.body = response.text[:300]
            if response.headers.get("Content-Type", "").startswith("application/json"):
                try:
                    request.answer = response.json()
                except ValueError:
                    request.answer = None
        attempt.seconds = self.now() - started
        request.attempts.append(attempt)
        return attempt
