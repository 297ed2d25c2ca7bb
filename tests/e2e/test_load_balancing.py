"""HAProxy in front of real replicas: spreading, failover, rollout, scale, reload and overload, each under a
bounded mixed load that no cache can answer, with the part under fault shown serving until it broke.

The load (stackctl.load, also the drill's) reads aggregates of (user, product) pairs no one has read, so
each request reaches a gateway replica and both services; it also makes keyed creates and PATCHes, checked
in PostgreSQL afterwards. Nothing is hidden: a replay after a closed keep-alive connection is counted and
asserted, and there are no client retries (retry_writes is off).
"""

import os
import signal

import httpx
import pytest

from stackctl import audit
from support import haproxy_stats
from support.haproxy_stats import Counters
from support.metrics import gateway_total
from support.poll import poll
from support.relay import Relay

BACKENDS = {"users": "be_users", "products": "be_products", "gateway": "be_gateway"}
UNAVAILABLE = {
    "error": {
        "code": "service_unavailable",
        "message": "The service is at capacity or unavailable; retry shortly.",
        "detail": {"source": "load_balancer"},
    }
}


def assert_nothing_failed_or_lost(stack, result) -> None:
    """0 failed client requests, and every keyed write acknowledged once in PostgreSQL."""
    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    writes = audit.keyed_writes(stack.dsn("products"), result.requests)
    assert (writes.lost, writes.duplicated, writes.unacknowledged_applied, writes.unacknowledged_not_applied) == (
        [],
        [],
        [],
        [],
    )
    assert writes.acknowledged == len(result.of_kind("create", "patch")) > 0
    assert result.stale_reads == 0


def test_requests_are_spread_over_every_healthy_replica(stack):
    before = haproxy_stats.servers(stack.url("stats"), "be_users")

    with stack.client("users") as users:
        statuses = {users.get("/api/users/1/").status_code for _ in range(60)}

    after = haproxy_stats.servers(stack.url("stats"), "be_users")
    served = {name: int(after[name]["stot"]) - int(before[name]["stot"]) for name in after}
    assert statuses == {200}
    assert sorted(served) == ["users-1", "users-2", "users-3"]
    assert all(count >= 15 for count in served.values()), served


@pytest.mark.parametrize("tier", ["users", "products", "gateway"])
def test_sigkill_of_a_replica_under_mixed_load_fails_no_request_and_loses_no_write(stack, tier):
    stats, backend, server = stack.url("stats"), BACKENDS[tier], f"{tier}-2"
    start = Counters(stats)
    replays_before = replays_of(stack, tier)
    with stack.load(max_seconds=60) as load:
        load.wait_for(120)
        # Kill only once the replica has shown it serves its share (each request picks a replica anew).
        before_kill = poll(
            lambda: (counters := Counters(stats)).since(start, f"{backend}/{server}") >= 20 and counters,
            timeout=30,
            what=f"{server} serving 20 requests",
        )
        os.killpg(stack.pid(server), signal.SIGKILL)
        seconds_to_down = haproxy_stats.wait_for_status(stats, backend, server, "DOWN", timeout=5)
        down = Counters(stats)
        load.wait_for_more(120)
        end = Counters(stats)
    result = load.stop()
    stack.manage("rollout", tier, "--replica", "2")  # starts the dead replica again

    assert_nothing_failed_or_lost(stack, result)
    # The killed replica served its share until the kill (the poll above), and nothing once it was DOWN.
    assert before_kill.since(start, f"{backend}/{server}") >= 20
    assert end.since(down, f"{backend}/{server}") == 0
    assert end.since(start, f"{backend}/BACKEND", "hrsp_5xx") == 0
    assert seconds_to_down <= 2.0
    # No keep-alive connection of the client closed under it: HAProxy retried the killed replica's work, and
    # the gateway asked again for each answer the replica died in the middle of (HAProxy had passed its head
    # on, so could not retry it): no more of those than HAProxy saw the killed server abort.
    assert result.replays == 0
    assert replays_of(stack, tier) - replays_before <= end.since(start, f"{backend}/{server}", "srv_abrt")
    assert haproxy_stats.servers(stats, backend)[server]["status"].startswith("UP")


def replays_of(stack, tier: str) -> float:
    """Calls the gateways sent to a service again because its answer broke off (upstream.clients); none to
    count when the tier killed is the gateway's own."""
    if tier == "gateway":
        return 0
    return gateway_total(stack, "gateway_upstream_replays_total", service=tier, reason="answer_cut_short")


# products: the drill's rollout (tests/e2e/test_drill.py), the same code path as users.
@pytest.mark.parametrize("tier", ["users", "gateway"])
def test_a_rollout_under_mixed_load_fails_no_request_and_loses_no_write(stack, tier):
    stats, backend = stack.url("stats"), BACKENDS[tier]
    names = [f"{tier}-{index}" for index in stack.replicas(tier)]
    pids_before = {name: stack.pid(name) for name in names}
    start = Counters(stats)
    with stack.load(max_seconds=120) as load:
        load.wait_for(100)
        warmed = Counters(stats)
        stack.manage("rollout", tier)
        load.wait_for_more(100)
    result = load.stop()
    end = Counters(stats)

    assert_nothing_failed_or_lost(stack, result)
    assert all(stack.pid(name) != pids_before[name] for name in names)
    # Every replica served before the rollout reached it, and served again after its restart.
    assert all(warmed.since(start, f"{backend}/{name}") > 0 for name in names), warmed.values
    assert all(end.since(warmed, f"{backend}/{name}") > 0 for name in names), end.values
    assert end.since(start, f"{backend}/BACKEND", "hrsp_5xx") == 0
    assert result.replays == 0
    statuses = [row["status"] for row in haproxy_stats.servers(stats, backend).values()]
    assert all(status.startswith("UP") for status in statuses), statuses


def test_ten_haproxy_reloads_under_mixed_load_fail_no_request(stack):
    stats = stack.url("stats")
    served_after_reload = []
    with stack.load(max_seconds=120) as load:
        load.wait_for(50)
        for _ in range(10):
            stack.manage("reload")
            load.wait_for_more(20)
            # The counters are the new worker's: it took the load over.
            served_after_reload.append(int(haproxy_stats.rows(stats)["be_gateway/BACKEND"]["stot"]))
    result = load.stop()

    assert_nothing_failed_or_lost(stack, result)
    assert all(count > 0 for count in served_after_reload), served_after_reload
    # As for a scale: an idle keep-alive connection closed by the old worker is replayed once (RFC 9112
    # §9.3.1), at most once per connection (6) and reload (10).
    assert result.replays <= 6 * 10
    assert result.total >= 250


def test_a_replica_whose_database_fails_is_taken_out_and_comes_back_by_itself(stack):
    relay = Relay(target_port=stack.postgres_port)
    database_url = f"postgres://postgres@127.0.0.1:{relay.port}/{stack.database_prefix}scaling_users"
    stack.manage("scale", "users", "4", env={"USERS_DATABASE_URL": database_url})
    stats = stack.url("stats")
    replica = f"http://127.0.0.1:{stack.replica_port('users', 4)}"
    # A list read is never in the object cache: every request needs the replica's database.
    url = f"{stack.url('users')}/api/users/?page_size=2"
    try:
        with stack.load(url, headers=stack.service_headers(), max_seconds=60) as load:
            load.wait_for(100)
            warmed = poll(
                lambda: (counters := Counters(stats)).values["be_users/users-4"]["stot"] >= 10 and counters,
                timeout=30,
                what="users-4 serving 10 list reads",
            )
            relay.cut()
            haproxy_stats.wait_for_status(stats, "be_users", "users-4", "DOWN", timeout=5)
            not_ready = httpx.get(f"{replica}/readyz")
            down = Counters(stats)
            load.wait_for_more(100)
            out = Counters(stats)
            relay.restore()
            haproxy_stats.wait_for_status(stats, "be_users", "users-4", "UP", timeout=10)
            ready = httpx.get(f"{replica}/readyz")
            back = Counters(stats)
            load.wait_for_more(100)
            end = Counters(stats)
        result = load.stop()
    finally:
        relay.close()
        stack.manage("scale", "users", "3")

    assert (not_ready.status_code, not_ready.json()) == (503, {"status": "unavailable", "checks": {"database": "down"}})
    assert ready.status_code == 200
    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    assert result.replays == 0
    # users-4 served list reads from its database, none while it was out, and again once back.
    assert warmed.values["be_users/users-4"]["stot"] >= 10
    assert out.since(down, "be_users/users-4") == 0
    assert end.since(back, "be_users/users-4") > 0
    # What users-4 answered while its database was going away was retried on another replica (503 → retry).
    assert end.since(warmed, "be_users/BACKEND", "hrsp_5xx") == end.since(warmed, "be_users/users-4", "hrsp_5xx")


def test_a_gateway_replica_serves_more_requests_at_once_than_a_service_replica_has_threads(stack):
    # The gateway answers reads on its event loop: held to a service's 4 threads, requests queued in HAProxy
    # while the gateways idled (docs/benchmark.md, "Settings chosen by measurement").
    url = f"{stack.url('gateway')}/api/5/5/"
    assert httpx.get(url, headers=stack.auth_headers()).status_code == 200  # the page is cached from here on

    with stack.load(url, concurrency=48, max_seconds=3, max_requests=3000) as load:
        result = load.join()

    gateways = haproxy_stats.servers(stack.url("stats"), "be_gateway")
    users = haproxy_stats.servers(stack.url("stats"), "be_users")
    assert set(result.statuses) == {200}, result.summary()
    assert {name: row["slim"] for name, row in gateways.items()} == {"gateway-1": "16", "gateway-2": "16"}
    assert {row["slim"] for row in users.values()} == {"4"}
    assert max(int(row["smax"]) for row in gateways.values()) > 4, gateways


def test_overload_past_maxconn_and_queue_gets_fast_json_503s_with_retry_after(stack):
    # One request per replica at a time and a 5 ms queue: even cache hits (about 1 ms each) overflow it.
    tight = {"HAPROXY_SERVER_MAXCONN": "1", "HAPROXY_SERVER_MAXQUEUE": "1", "HAPROXY_QUEUE_TIMEOUT": "5ms"}
    stack.manage("reload", env=tight)
    try:
        with stack.load(f"{stack.url('gateway')}/api/4/4/", concurrency=48, max_seconds=4, max_requests=3000) as load:
            result = load.join()  # a burst bounded by the load's own deadline and request cap
    finally:
        stack.manage("reload")

    assert set(result.statuses) <= {200, 503}, result.summary()
    assert result.statuses[503] > 0 and result.statuses[200] > 0, result.summary()
    assert not result.errors, result.summary()
    refused = [request for request in result.requests if request.final.status == 503]
    assert {request.final.retry_after for request in refused} == {"1"}
    assert all(request.answer == UNAVAILABLE for request in refused)
    assert result.replays == 0
    assert max(result.latencies) < 0.005 + 10 + 1  # queue timeout + server timeout, plus a second
    sorted_latencies = sorted(result.latencies)
    assert sorted_latencies[int(len(sorted_latencies) * 0.99)] < 2.0
    body = httpx.get(f"{stack.url('gateway')}/api/4/4/", headers=stack.auth_headers())
    assert body.status_code == 200
