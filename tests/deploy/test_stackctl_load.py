"""stackctl.load, the drill's and the fault tests' load generator: every attempt counted, replays only where
RFC 9112 allows them, aggregates whose parts no one has read."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stackctl.load import Attempt, Call, ClientRequest, FreshPairs, Load, LoadResult


def test_fresh_pairs_take_a_new_user_and_a_new_product_for_each_read_until_the_smaller_catalogue_ends():
    pairs = FreshPairs([1, 2, 3], [10, 20, 30, 40], start=1)

    paths = [pairs.next_path() for _ in range(3)]

    assert paths == ["/api/2/20/", "/api/3/30/", "/api/1/40/"]
    with pytest.raises(RuntimeError, match="all 3 fresh \\(user, product\\) pairs are used"):
        pairs.next_path()
    assert FreshPairs([1, 2], [10, 20], wrap=True).next_path() == "/api/1/10/"


class Flaky(BaseHTTPRequestHandler):
    """Closes the connection without an answer the first time it sees a path; answers 503 to /busy/."""

    protocol_version = "HTTP/1.1"
    seen: set = set()
    lock = threading.Lock()

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.lock:
            first = self.path not in self.seen
            self.seen.add(self.path)
        if first and self.path.startswith("/drop/"):
            self.close_connection = True  # as a reloading proxy closing an idle keep-alive connection
            return
        status = 503 if self.path.startswith("/busy/") and first else (201 if self.command == "POST" else 200)
        body = json.dumps({"id": 1, "request_id": self.headers["X-Request-ID"]}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status == 503:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _handle

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Flaky.seen = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def run(server: str, calls: list[Call], **options):
    def plan(worker, load):
        # Not `yield from calls`: the worker send()s each answer back, which a list's iterator cannot take.
        for call in calls:  # noqa: UP028
            yield call
        while True:
            yield Call("get", "GET", "/done/")

    return Load(server, plan=plan, concurrency=1, max_requests=len(calls), run="unit-run", **options).start_and_join()


def test_a_dropped_connection_is_replayed_once_for_a_get_and_a_keyed_post_but_never_an_unkeyed_post(server):
    calls = [
        Call("get", "GET", "/drop/a/"),
        Call("create", "POST", "/drop/b/", json={}, key="k-1"),
        Call("create", "POST", "/drop/c/", json={}),
    ]

    result = run(server, calls)

    outcomes = [[(attempt.reason, attempt.outcome) for attempt in request.attempts] for request in result.requests]
    assert outcomes == [
        [("first", "RemoteProtocolError"), ("replay", 200)],
        [("first", "RemoteProtocolError"), ("replay", 201)],
        [("first", "RemoteProtocolError")],
    ]
    assert (result.replays, result.retries, result.failures, dict(result.errors)) == (
        2,
        0,
        1,
        {"RemoteProtocolError": 1},
    )
    # Each attempt has its own request id: the logs count attempts per client attempt.
    assert [attempt.request_id for attempt in result.requests[0].attempts] == ["unit-run-000001.1", "unit-run-000001.2"]
    assert result.requests[0].answer == {"id": 1, "request_id": "unit-run-000001.2"}


def test_a_keyed_write_answered_503_is_retried_by_the_client_only_when_asked(server):
    keyed = [Call("create", "POST", "/busy/a/", json={}, key="k-2")]

    without = run(server, keyed)
    Flaky.seen.clear()
    with_retries = run(server, keyed, retry_writes=True)

    assert [attempt.outcome for attempt in without.requests[0].attempts] == [503]
    assert [(a.reason, a.outcome) for a in with_retries.requests[0].attempts] == [("first", 503), ("retry", 201)]
    assert (with_retries.retries, with_retries.failures) == (1, 0)


def test_phases_split_the_client_requests_at_the_marks(server):
    def plan(worker, load):
        while True:
            yield Call("get", "GET", "/p/")

    load = Load(server, plan=plan, concurrency=1)
    load.start()
    load.wait_for(5)
    load.mark("fault")
    load.wait_for_more(5)
    result = load.stop()

    (before, _, end, first), (fault, start, _, second) = result.phases()
    assert (before, fault, end) == ("before", "fault", start)
    assert len(first) >= 5 and len(second) >= 5 and len(first) + len(second) == result.total


def test_a_request_counts_in_the_span_where_its_first_attempt_was_answered_not_where_it_was_sent():
    def request(number, *attempts):
        return ClientRequest(number, Call("create", "POST", "/p/", key=f"k-{number}"), list(attempts))

    # Sent at 0.9 s, answered 503 at 1.1 s (what met it at 1.1 s decided its retry), retried at 2.0 s.
    straddling = request(1, Attempt("r-1.1", "first", 0.9, 0.2, 503), Attempt("r-1.2", "retry", 2.0, 0.1, 201))
    inside = request(2, Attempt("r-2.1", "first", 1.2, 0.1, 201))
    answered_after = request(3, Attempt("r-3.1", "first", 1.8, 0.3, 201))
    result = LoadResult(requests=[straddling, inside, answered_after])

    assert [r.number for r in result.answered_between(1.0, 2.0)] == [1, 2]
    assert [r.number for r in result.between(1.0, 2.0)] == [2, 3]
