"""HAProxy in front of real replicas: spreading, failover, rollout, reload and overload, under bounded load."""

import os
import signal

import httpx

from support import haproxy_stats
from support.load import Load
from support.relay import Relay


def test_requests_are_spread_over_every_healthy_replica(stack):
    before = haproxy_stats.servers(stack.url("stats"), "be_users")

    with stack.client("users") as users:
        statuses = {users.get("/api/users/1/").status_code for _ in range(60)}

    after = haproxy_stats.servers(stack.url("stats"), "be_users")
    served = {name: int(after[name]["stot"]) - int(before[name]["stot"]) for name in after}
    assert statuses == {200}
    assert sorted(served) == ["users-1", "users-2", "users-3"]
    assert all(count >= 15 for count in served.values()), served


def test_sigkill_of_a_users_replica_mid_load_fails_no_request(stack):
    stats = stack.url("stats")
    with Load(f"{stack.url('gateway')}/api/1/1/", max_seconds=90, headers=stack.auth_headers()) as load:
        load.wait_for(150)
        os.killpg(stack.pid("users-2"), signal.SIGKILL)
        seconds_to_down = haproxy_stats.wait_for_status(stats, "be_users", "users-2", "DOWN", timeout=5)
        load.wait_for(load.result.total + 300)
    result = load.stop()

    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    assert result.total >= 450
    assert seconds_to_down <= 2.0

    stack.manage("rollout", "users")  # restarts the dead replica too
    assert haproxy_stats.servers(stats, "be_users")["users-2"]["status"].startswith("UP")


def test_a_rollout_of_the_product_service_under_load_fails_no_request(stack):
    pids_before = {f"products-{i}": stack.pid(f"products-{i}") for i in (1, 2, 3)}

    with Load(f"{stack.url('gateway')}/api/2/2/", max_seconds=120, headers=stack.auth_headers()) as load:
        load.wait_for(100)
        stack.manage("rollout", "products")
        load.wait_for(load.result.total + 100)
    result = load.stop()

    pids_after = {name: stack.pid(name) for name in pids_before}
    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    assert all(pids_after[name] != pids_before[name] for name in pids_before)
    statuses = [row["status"] for row in haproxy_stats.servers(stack.url("stats"), "be_products").values()]
    assert all(status.startswith("UP") for status in statuses), statuses


def test_a_replica_whose_database_fails_is_taken_out_and_comes_back_by_itself(stack):
    relay = Relay(target_port=5432)
    database_url = f"postgres://postgres@127.0.0.1:{relay.port}/{stack.database_prefix}scaling_users"
    stack.manage("scale", "users", "4", env={"USERS_DATABASE_URL": database_url})
    stats = stack.url("stats")
    replica = f"http://127.0.0.1:{stack.replica_port('users', 4)}"
    try:
        with Load(f"{stack.url('users')}/api/users/3/", max_seconds=60, headers=stack.service_headers()) as load:
            load.wait_for(100)
            relay.cut()
            haproxy_stats.wait_for_status(stats, "be_users", "users-4", "DOWN", timeout=5)
            not_ready = httpx.get(f"{replica}/readyz")
            load.wait_for(load.result.total + 100)
            relay.restore()
            haproxy_stats.wait_for_status(stats, "be_users", "users-4", "UP", timeout=10)
            ready = httpx.get(f"{replica}/readyz")
            load.wait_for(load.result.total + 50)
        result = load.stop()
    finally:
        relay.close()
        stack.manage("scale", "users", "3")

    assert (not_ready.status_code, not_ready.json()) == (503, {"status": "unavailable", "checks": {"database": "down"}})
    assert ready.status_code == 200
    assert result.failures == 0, (result.summary(), result.bodies_of_failures)


def test_ten_haproxy_reloads_under_load_fail_no_request(stack):
    with Load(f"{stack.url('gateway')}/api/3/3/", max_seconds=120, headers=stack.auth_headers()) as load:
        load.wait_for(50)
        for _ in range(10):
            stack.manage("reload")
            load.wait_for(load.result.total + 20)
    result = load.stop()

    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    assert result.total >= 250


def test_overload_past_maxconn_and_queue_gets_fast_json_503s(stack):
    # One request per replica at a time and a 5 ms queue: even cache hits (about 1 ms each) overflow it.
    tight = {"HAPROXY_SERVER_MAXCONN": "1", "HAPROXY_SERVER_MAXQUEUE": "1", "HAPROXY_QUEUE_TIMEOUT": "5ms"}
    stack.manage("reload", env=tight)
    try:
        with Load(
            f"{stack.url('gateway')}/api/4/4/",
            concurrency=48,
            max_seconds=4,
            max_requests=3000,
            headers=stack.auth_headers(),
        ) as load:
            result = load.join()  # a burst bounded by the load's own deadline and request cap
    finally:
        stack.manage("reload")

    assert set(result.statuses) <= {200, 503}, result.summary()
    assert result.statuses[503] > 0 and result.statuses[200] > 0, result.summary()
    assert not result.errors, result.summary()
    assert max(result.latencies) < 0.005 + 10 + 1  # queue timeout + server timeout, plus a second
    sorted_latencies = sorted(result.latencies)
    assert sorted_latencies[int(len(sorted_latencies) * 0.99)] < 2.0
    body = httpx.get(f"{stack.url('gateway')}/api/4/4/", headers=stack.auth_headers())
    assert body.status_code == 200
