"""Faults beyond a dead replica, each under load that reaches it: PostgreSQL and Redis restarting (the
session's own servers), a slow replica, and replicas killed in the middle of a write.

A slow or held replica is made with a delay proxy (support.delay_proxy) that HAProxy's runtime API puts
in front of it: the replica keeps its name, counters and health checks.
"""

import json
import os
import re
import signal
import threading
import time
import uuid

import httpx
import pytest
import redis

from stackctl import audit
from stackctl.load import mixed
from support import haproxy_stats
from support.delay_proxy import DelayProxy
from support.haproxy_stats import Counters
from support.pg_locks import waiting
from support.poll import poll
from support.token_records import verified_seconds_ago

BACKENDS = {"users": "be_users", "products": "be_products", "gateway": "be_gateway"}
# A service's database_unavailable reaches an aggregate client as upstream_degraded (the reason names it).
FAST_503_CODES = {"database_unavailable", "upstream_busy", "upstream_degraded", "service_unavailable"}
BAD_GATEWAY = {
    "error": {
        "code": "bad_gateway",
        "message": "No replica gave a valid answer.",
        "detail": {"source": "load_balancer"},
    }
}
HAPROXY_UNAVAILABLE = {
    "error": {
        "code": "service_unavailable",
        "message": "The service is at capacity or unavailable; retry shortly.",
        "detail": {"source": "load_balancer"},
    }
}
UPSTREAM_UNAVAILABLE = {
    "error": {
        "code": "upstream_unavailable",
        "message": "The products service is unavailable.",
        "detail": {"service": "products"},
    }
}


def every_replica(stack, prefix: str) -> bool:
    rows = haproxy_stats.rows(stack.url("stats"))
    names = [name for name in rows if name.split("/")[0] in BACKENDS.values() and not name.endswith("/BACKEND")]
    return all(rows[name]["status"].startswith(prefix) for name in names)


# ---------------------------------------------------------------------------------------- PostgreSQL


def test_while_postgresql_restarts_cached_reads_go_on_the_rest_gets_a_fast_json_503_and_no_write_is_lost(
    stack, postgres, redis_server
):
    stats = stack.url("stats")
    pids = {f"{tier}-{index}": stack.pid(f"{tier}-{index}") for tier in BACKENDS for index in stack.replicas(tier)}
    # A hot page of this test's own, cached by its first read: no other test's earlier read lets it expire
    # (PAGE_CACHE_TTL) during the outage.
    read_plan = mixed(stack.pairs, hot_path="/api/49/49/", writes=False)
    write_plan = mixed(stack.pairs, reads=0, searches=False, checks=False)  # keyed creates and PATCHes
    with (
        stack.load(plan=read_plan, max_seconds=120) as reads,
        stack.load(plan=write_plan, concurrency=3, max_seconds=120, retry_writes=True) as writes,
    ):
        reads.wait_for(150)
        writes.wait_for(30)
        before = Counters(stats)
        stopped = reads.mark("PostgreSQL stopping"), writes.mark("PostgreSQL stopping")
        postgres.shutdown()
        # The load's token record comes due with the database down: the gateway cannot verify the token
        # again, and serves its client from the record, verified within TOKEN_RECORD_GRACE_SECONDS.
        assert verified_seconds_ago(redis.Redis(port=redis_server.port), 1) >= 1
        # No replica is ready: HAProxy routes every tier to its live replicas (panic routing).
        poll(lambda: every_replica(stack, "DOWN"), timeout=10, what="every replica out of rotation")
        all_out = reads.mark("every replica out of rotation")
        reads.wait_for_more(150, timeout=10)
        during = Counters(stats)
        postgres.start()
        poll(lambda: every_replica(stack, "UP"), timeout=20, what="every replica back in rotation")
        recovered = reads.mark("every replica ready"), writes.mark("every replica ready")
        reads.wait_for_more(150)
        writes.wait_for_more(30)
    read_result, write_result = reads.stop(), writes.stop()

    # Pages the gateway's cache holds are answered throughout.
    outage = read_result.between(stopped[0], recovered[0])
    hot = [request for request in outage if request.call.kind == "hot"]
    assert hot and {(request.final.status, request.final.cache) for request in hot} <= {(200, "HIT"), (503, None)}
    # But for HAProxy's own 503 at the instant the last gateway replica left rotation: panic routing is
    # decided when a request arrives, and one routed to be_gateway a moment before found no replica there.
    refused = [request for request in hot if request.final.status == 503]
    assert all(request.answer == HAPROXY_UNAVAILABLE and request.started < all_out for request in refused)
    assert len(refused) < len(hot) / 2, (len(refused), len(hot))
    # The token's record came due in the outage, and its client was served from it all the same.
    gateway_logs = "".join(path.read_text() for path in (stack.stack_dir / "log").glob("gateway-*.log"))
    assert "Token record used past its verification: the database is unavailable" in gateway_logs
    # Everything else reached the live replicas meanwhile: fresh aggregates and searches, which need the
    # database, got a fast JSON 503 with Retry-After.
    assert all(during.since(before, f"{backend}_live/BACKEND") > 0 for backend in BACKENDS.values())
    assert any(not request.ok for request in outage if request.call.kind == "read")
    assert any(not request.ok for request in outage if request.call.kind == "search")
    # Every attempt that failed, read or write, was such a 503 during the outage: never a 500, never a hang.
    for result, (start, end) in ((read_result, (stopped[0], recovered[0])), (write_result, (stopped[1], recovered[1]))):
        failed = [attempt for attempt in result.attempts if attempt.status not in (200, 201)]
        # In the outage: sent before the replicas were ready again, answered after PostgreSQL began to stop.
        outside = [
            (a.request_id, a.started, a.outcome)
            for a in failed
            if not start <= a.started + a.seconds and a.started < end
        ]
        assert outside == [], (start, end, outside)
        assert {(attempt.status, attempt.retry_after) for attempt in failed} == {(503, "1")}, result.summary()
        errors = [json.loads(attempt.body)["error"] for attempt in failed]
        assert {error["code"] for error in errors} <= FAST_503_CODES
        degraded = [error["detail"]["reason"] for error in errors if error["code"] == "upstream_degraded"]
        assert set(degraded) <= {"database_unavailable"}, degraded
        assert max(attempt.seconds for attempt in result.attempts) < 2.0
    # The gateway answered every request, so no client connection closed under one: nothing replayed.
    assert read_result.replays == write_result.replays == 0
    # Keyed writes retried by the client after Retry-After are all applied, once.
    assert write_result.failures == 0 and write_result.retries > 0, write_result.summary()
    audited = audit.keyed_writes(stack.dsn("products"), write_result.requests)
    assert (audited.lost, audited.duplicated, audited.acknowledged) == ([], [], write_result.total)
    # The replicas came back without a restart, and every request after that succeeded.
    assert {name: stack.pid(name) for name in pids} == pids
    assert all(request.ok for request in read_result.requests if request.started >= recovered[0])
    # Retries do not multiply, counted by request id from HAProxy's log lines: each HAProxy request makes at
    # most 2 attempts, so one client attempt makes at most 2 at a tier, and 2 more only after HAProxy closed
    # the gateway's connection without an answer (a retry that found no replica left: see stackctl.audit).
    for run in (reads.run, writes.run):
        attempts = audit.attempts_per_request(stack.stack_dir / "log", run)
        assert attempts["gateway"].max == 1  # a gateway always answered: be_gateway retried nothing
        for tier in ("users", "products"):
            beyond_two = sum(n for count, n in attempts[tier].counts.items() if count > 2)
            assert attempts[tier].max <= 4 and beyond_two <= attempts[tier].silent_closes, attempts[tier].as_dict()
            assert attempts[tier].p99 <= 2, attempts[tier].as_dict()
        # The replicas' own request lines agree: none answered one client attempt more often than that.
        answered = audit.answered_per_request(stack.stack_dir / "log", run)
        assert max(max(counts) for counts in answered.values()) <= 4


# ---------------------------------------------------------------------------------------- Redis


def staff_session(stack) -> httpx.Client:
    """A logged-in staff member of the gateway, for /status/."""
    password = "status-e2e-password"
    stack.manage(
        "manage", "gateway", "createsuperuser", "--noinput", "--username", "status-e2e", "--email", "s@example.com",
        env={"DJANGO_SUPERUSER_PASSWORD": password}, check=False,
    )  # fmt: skip
    client = httpx.Client(base_url=stack.url("gateway"), follow_redirects=True, timeout=10)
    login = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.text).group(1)
    client.post(
        "/admin/login/?next=/status/",
        data={"username": "status-e2e", "password": password, "csrfmiddlewaretoken": token},
    )
    return client


def redis_state(session: httpx.Client) -> str:
    return re.search(r'<p id="redis" data-state="(\w+)"', session.get("/status/").text).group(1)


def test_a_redis_restart_under_mixed_load_fails_no_request_and_limits_and_caches_resume_within_seconds(
    stack, redis_server
):
    limited = {"Authorization": f"Token {stack.token('redis-restart-limited', '--rate', '1000/minute')}"}
    session = staff_session(stack)
    with stack.load(max_seconds=60) as load, httpx.Client(base_url=stack.url("gateway"), timeout=10) as probe:
        load.wait_for(150)
        assert redis_state(session) == "up"
        redis_server.kill()
        killed = load.mark("Redis killed")
        load.wait_for_more(100)
        unlimited_while_down = probe.get("/api/2/3/", headers=limited)
        state_while_down = poll(lambda: redis_state(session) == "down" and "down", timeout=10, what="status: down")
        redis_server.start()  # empty, as after a restart without persistence
        started = time.monotonic()
        load.mark("Redis started")
        limits_back = poll(
            lambda: "RateLimit" in probe.get("/api/2/3/", headers=limited).headers and time.monotonic() - started,
            timeout=10,
            what="rate limiting to resume",
        )
        probe.get("/api/2/4/", headers=limited)
        cache_back = poll(
            lambda: (
                probe.get("/api/2/4/", headers=limited).headers.get("X-Cache") == "HIT" and time.monotonic() - started
            ),
            timeout=10,
            what="the page cache to answer again",
        )
        status_back = poll(lambda: redis_state(session) == "up" and time.monotonic() - started, timeout=10, what="up")
        load.wait_for_more(150)
    result = load.stop()
    session.close()

    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    assert result.replays == 0
    writes = audit.keyed_writes(stack.dsn("products"), result.requests)
    assert (writes.lost, writes.duplicated, writes.acknowledged) == ([], [], len(result.of_kind("create", "patch")))
    # Redis down: requests go through unmetered (RATE_LIMIT_FAIL_OPEN) and the status page says so.
    assert unlimited_while_down.status_code == 200 and "RateLimit" not in unlimited_while_down.headers
    assert state_while_down == "down"
    assert len(result.between(killed, killed + 60)) >= 100
    # Back within seconds, by themselves.
    assert limits_back < 3.0 and cache_back < 3.0 and status_back < 5.0, (limits_back, cache_back, status_back)


# ---------------------------------------------------------------------------------------- a slow replica


def test_a_slow_product_replica_gets_504s_naming_it_within_the_timeout_and_is_taken_out(stack):
    stats, port = stack.url("stats"), stack.replica_port("products", 3)
    proxy = DelayProxy(port, delay=6.0)  # longer than the gateway's UPSTREAM_READ_TIMEOUT (5 s)
    start = Counters(stats)
    stack.reroute("be_products", "products-3", proxy.port)
    try:
        with stack.load(plan=mixed(stack.pairs, writes=False), max_seconds=60) as load:
            seconds_to_down = haproxy_stats.wait_for_status(stats, "be_products", "products-3", "DOWN", timeout=10)
            down = Counters(stats)
            load.wait_for_more(150, timeout=30)
        result = load.stop()  # waits for the requests products-3 still held: they end at the gateway's timeout
        end = Counters(stats)
    finally:
        stack.reroute("be_products", "products-3", port)
        proxy.close()
        haproxy_stats.wait_until_serving(stats, "be_products", "products-3")

    sent_to_slow = down.since(start, "be_products/products-3")
    timed_out = [request for request in result.requests if request.final.status == 504]
    assert sent_to_slow > 0
    assert len(timed_out) == sent_to_slow, result.summary()
    assert {request.final.status for request in result.requests} == {200, 504}
    assert all(
        request.answer
        == {
            "error": {
                "code": "upstream_timeout",
                "message": "The products service did not answer in time.",
                "detail": {"service": "products"},
            }
        }
        for request in timed_out
    )
    assert all(5.0 <= request.seconds <= 5.5 for request in timed_out), [r.seconds for r in timed_out]
    # Its health checks timed out and took it out; the other replicas served everything else.
    assert seconds_to_down <= 4.0
    assert end.since(down, "be_products/products-3") == 0
    assert end.since(start, "be_products/products-1") + end.since(start, "be_products/products-2") > 0
    assert result.replays == 0


def test_a_replica_slower_than_haproxys_server_timeout_gets_haproxys_json_504(stack):
    port = stack.replica_port("products", 3)
    proxy = DelayProxy(port, delay=3.0)
    stack.manage("reload", env={"HAPROXY_SERVER_TIMEOUT": "1s"})
    for index in (1, 2):
        stack.haproxy(f"set server be_products/products-{index} state drain")
    stack.reroute("be_products", "products-3", proxy.port)
    try:
        started = time.monotonic()
        answer = httpx.get(f"{stack.url('products')}/api/products/7/", headers=stack.service_headers(), timeout=10)
        seconds = time.monotonic() - started
    finally:
        stack.reroute("be_products", "products-3", port)
        for index in (1, 2):
            stack.haproxy(f"set server be_products/products-{index} state ready")
        proxy.close()
        stack.manage("reload")
        haproxy_stats.wait_until_serving(stack.url("stats"), "be_products", "products-3")

    assert (answer.status_code, answer.headers["Content-Type"]) == (504, "application/json")
    assert answer.json() == {
        "error": {
            "code": "gateway_timeout",
            "message": "No replica answered in time.",
            "detail": {"source": "load_balancer"},
        }
    }
    assert 1.0 <= seconds < 2.0  # HAProxy does not retry a timeout: the slow tier never gets the work twice


# ---------------------------------------------------------------------------------------- killed mid-request


@pytest.mark.parametrize("tier", ["products", "gateway"])
def test_a_replica_killed_after_applying_a_post_keyed_is_retried_once_and_unkeyed_is_never_replayed(stack, tier):
    backend, index = BACKENDS[tier], stack.replicas(tier)[-1]
    server, port = f"{tier}-{index}", stack.replica_port(tier, index)
    others = [other for other in stack.replicas(tier) if other != index]
    run = uuid.uuid4().hex[:8]
    bodies = {
        kind: {"name": f"Mid {kind}", "sku": f"MID-{tier}-{kind}-{run}", "price": "2.00"}
        for kind in ("keyed", "unkeyed")
    }
    headers = {
        "keyed": {**stack.auth_headers(), "Idempotency-Key": f"mid-{run}", "X-Request-ID": f"mid-keyed-{run}"},
        "unkeyed": {**stack.auth_headers(), "X-Request-ID": f"mid-unkeyed-{run}"},
    }
    answers = {}

    def post(kind: str) -> None:
        with httpx.Client(base_url=stack.url("gateway"), timeout=20) as client:
            answers[kind] = client.post("/api/products/", json=bodies[kind], headers=headers[kind])

    haproxy_stats.wait_until_serving(stack.url("stats"), backend, server)  # no slow start left to queue a POST
    proxy = DelayProxy(port)
    proxy.hold_writes()  # the replica does the work; its answers to writes never leave
    stack.reroute(backend, server, proxy.port)
    for other in others:
        stack.haproxy(f"set server {backend}/{tier}-{other} state drain")
    threads = [threading.Thread(target=post, args=(kind,)) for kind in bodies]
    try:
        for thread in threads:
            thread.start()
        poll(lambda: len(stored(stack, run)) == 2 and proxy.held == 2, timeout=10, what="both writes applied")
        for other in others:
            stack.haproxy(f"set server {backend}/{tier}-{other} state ready")
        os.killpg(stack.pid(server), signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=20)
    finally:
        stack.reroute(backend, server, port)
        for other in others:
            stack.haproxy(f"set server {backend}/{tier}-{other} state ready")
        proxy.close()
        stack.manage("rollout", tier, "--replica", str(index))

    rows = stored(stack, run)
    keyed, unkeyed = answers["keyed"], answers["unkeyed"]
    # The keyed POST: HAProxy sent it again, to another replica, which replayed the stored answer.
    assert (keyed.status_code, keyed.headers["Idempotent-Replayed"]) == (201, "true")
    assert keyed.json()["id"] == rows[bodies["keyed"]["sku"]]
    # The unkeyed POST: never replayed, though the write was applied once; its client gets a 502. HAProxy
    # answers it on a fresh client connection; on a kept-alive one (the gateway's pooled connections to
    # the services) it closes without an answer, so that the client may decide, and the gateway, which
    # never replays an unkeyed POST, answers the 502 naming the service.
    assert unkeyed.status_code == 502
    assert unkeyed.json() in ((BAD_GATEWAY, UPSTREAM_UNAVAILABLE) if tier == "products" else (BAD_GATEWAY,))
    assert sorted(rows) == sorted(body["sku"] for body in bodies.values())  # one row each, nothing doubled
    frontend = f"fe_{tier}"
    lines = poll(lambda: haproxy_lines(stack, run, frontend), timeout=5, what="HAProxy's log lines")
    assert lines == {f"mid-keyed-{run}": (201, "+1"), f"mid-unkeyed-{run}": (502, "0")}


def stored(stack, run: str) -> dict[str, int]:
    with stack.connect("products") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT sku, id FROM products_product WHERE sku LIKE %s", [f"MID-%-{run}"])
        rows = dict(cursor.fetchall())
    connection.close()
    return rows


def haproxy_lines(stack, run: str, frontend: str, count: int = 2) -> dict | None:
    """{request id: (status, retries)} of this run's lines at one frontend, once all `count` are logged."""
    import json

    found = {}
    for line in (stack.stack_dir / "log" / "haproxy.log").read_text().splitlines():
        if run in line and line.startswith("{"):
            record = json.loads(line)
            if record["frontend"] == frontend:
                found[record["request_id"]] = (record["status"], record["retries"])
    return found if len(found) == count else None


def test_a_gateway_killed_while_its_keyed_post_still_runs_at_the_service_gives_the_client_that_posts_answer(stack):
    """HAProxy retries the keyed POST onto another gateway while the first attempt is still running at the
    products service: the duplicate waits for it (IDEMPOTENCY_WAIT_SECONDS) and replays its answer."""
    index = stack.replicas("gateway")[-1]
    server, others = f"gateway-{index}", [other for other in stack.replicas("gateway") if other != index]
    run = uuid.uuid4().hex[:8]
    body = {"name": "Still running", "sku": f"MID-RUNNING-{run}", "price": "2.00"}
    headers = {**stack.auth_headers(), "Idempotency-Key": f"running-{run}", "X-Request-ID": f"running-{run}"}
    answers = []

    def post() -> None:
        with httpx.Client(base_url=stack.url("gateway"), timeout=20) as client:
            answers.append(client.post("/api/products/", json=body, headers=headers))

    haproxy_stats.wait_until_serving(stack.url("stats"), "be_gateway", server)
    blocker = stack.connect("products")  # holds off every insert into the products table: the POST runs on
    with blocker.cursor() as cursor:  # at the service, its transaction and the key's lock open
        cursor.execute("LOCK TABLE products_product IN SHARE MODE")
    for other in others:
        stack.haproxy(f"set server be_gateway/gateway-{other} state drain")
    thread = threading.Thread(target=post)
    try:
        thread.start()
        poll(lambda: waiting(blocker, "relation") == 1, timeout=10, what="the POST to wait for its insert")
        for other in others:
            stack.haproxy(f"set server be_gateway/gateway-{other} state ready")
        os.killpg(stack.pid(server), signal.SIGKILL)
        poll(lambda: waiting(blocker, "advisory") == 1, timeout=10, what="HAProxy's retry to wait for the first")
        blocker.rollback()  # the first attempt's insert goes on, and commits
        thread.join(timeout=20)
    finally:
        blocker.close()
        for other in others:
            stack.haproxy(f"set server be_gateway/gateway-{other} state ready")
        stack.manage("rollout", "gateway", "--replica", str(index))

    [answer] = answers
    assert (answer.status_code, answer.headers["Idempotent-Replayed"]) == (201, "true")
    assert stored(stack, run) == {body["sku"]: answer.json()["id"]}  # one row
    lines = poll(lambda: haproxy_lines(stack, run, "fe_gateway", count=1), timeout=5, what="HAProxy's log line")
    assert lines == {f"running-{run}": (201, "+1")}  # one retry at the gateway tier, none by the client
