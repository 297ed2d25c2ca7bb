"""Caching end to end: single flight, coherence after writes (API and admin), and Redis failures."""

import re
import threading

import httpx
import pytest
from conftest import PORT_BASE

from support.load import Load
from support.redis_server import RedisServer
from support.stack import Stack


def test_fifty_concurrent_requests_on_a_cold_key_make_one_call_per_service(stack):
    before = (stack.request_count("users", "/api/users/16/"), stack.request_count("products", "/api/products/16/"))
    headers = stack.auth_headers()
    barrier = threading.Barrier(50, timeout=30)
    statuses = []

    def one():
        with httpx.Client(timeout=10, headers=headers) as client:
            barrier.wait()
            statuses.append(client.get(f"{stack.url('gateway')}/api/16/16/").status_code)

    threads = [threading.Thread(target=one) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    after = (stack.request_count("users", "/api/users/16/"), stack.request_count("products", "/api/products/16/"))
    assert statuses == [200] * 50
    assert after == (before[0] + 1, before[1] + 1)


def test_many_write_read_pairs_through_haproxy_give_no_stale_read(stack):
    stale = []
    with stack.client() as client:
        for stock in range(40):
            client.get("/api/17/17/")
            client.patch("/api/products/17/", json={"stock": stock}).raise_for_status()
            seen = client.get("/api/17/17/").json()["product"]["stock"]
            if seen != stock:
                stale.append((stock, seen))

    assert stale == []


def test_an_edit_in_the_product_admin_is_visible_on_the_next_aggregate(stack):
    env = {"DJANGO_SUPERUSER_PASSWORD": "admin-password-e2e"}
    stack.manage(
        "manage",
        "products",
        "createsuperuser",
        "--noinput",
        "--username",
        "e2e-admin",
        "--email",
        "admin@example.com",
        env=env,
    )
    with stack.client() as gateway:
        before = gateway.get("/api/18/18/").json()["product"]
    with httpx.Client(base_url=stack.url("products"), follow_redirects=True) as admin:
        login_page = admin.get("/admin/login/")
        admin.post(
            "/admin/login/?next=/admin/",
            data={"username": "e2e-admin", "password": "admin-password-e2e", "csrfmiddlewaretoken": _csrf(login_page)},
        )
        form = admin.get("/admin/products/product/18/change/")
        saved = admin.post(
            "/admin/products/product/18/change/",
            data={
                "csrfmiddlewaretoken": _csrf(form),
                "name": "Edited In The Admin",
                "description": before["description"],
                "sku": before["sku"],
                "price": before["price"],
                "stock": before["stock"],
                "_save": "Save",
            },
        )

    with stack.client() as gateway:
        after = gateway.get("/api/18/18/")

    assert saved.status_code == 200 and b"was changed successfully" in saved.content
    assert after.json()["product"]["name"] == "Edited In The Admin"
    assert after.headers["X-Cache"] in ("STALE", "MISS")  # never the cached HIT


def _csrf(response: httpx.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_stack(tmp_path, own_redis):
    stack = Stack("redisfail", PORT_BASE - 6000, tmp_path / "stack", redis_db=0)
    stack.env["REDIS_URL"] = own_redis.url
    stack.up("--replicas", "1", "--gateway-replicas", "1")
    yield stack
    stack.down()


def test_redis_killed_paused_and_restarted_during_load_gives_no_5xx_and_the_cache_comes_back(redis_stack, own_redis):
    headers = redis_stack.auth_headers()
    with Load(f"{redis_stack.url('gateway')}/api/1/1/", concurrency=4, max_seconds=60, headers=headers) as load:
        load.wait_for(100)
        own_redis.kill()
        load.wait_for(load.result.total + 100)
        own_redis.start()
        own_redis.pause()
        load.wait_for(load.result.total + 50)
        own_redis.resume()
        load.wait_for(load.result.total + 100)
        hits_before_end = load.result.cache_states["HIT"]
        load.wait_for(load.result.total + 100)
    result = load.stop()

    assert not any(status >= 500 for status in result.statuses), result.summary()
    assert result.failures == 0, (result.summary(), result.bodies_of_failures)
    assert result.cache_states["HIT"] > hits_before_end, result.cache_states
    assert max(result.latencies) < 3.0
