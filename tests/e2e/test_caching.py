"""Caching end to end: single flight and coherence after writes (API and admin). Redis restarting under
load: tests/e2e/test_faults.py."""

import re
import threading

import httpx


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
