"""The gateway's page cache: keyed on what a response depends on, shared across clients, never stale."""

import json

import pytest

from django.test import Client

pytestmark = pytest.mark.django_db


def authed(key: str, **extra) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {key}", **extra)


def upstream_calls(services, user_id: int, product_id: int) -> tuple[int, int]:
    return (
        services.request_count("users", f"/api/users/{user_id}/"),
        services.request_count("products", f"/api/products/{product_id}/"),
    )


def test_the_second_identical_aggregate_is_a_hit_that_calls_no_service(client, services):
    before = upstream_calls(services, 6, 7)

    first = client.get("/api/6/7/")
    middle = upstream_calls(services, 6, 7)
    second = client.get("/api/6/7")

    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert middle == (before[0] + 1, before[1] + 1)
    assert upstream_calls(services, 6, 7) == middle


def test_cache_headers_are_set_and_if_none_match_gets_304(client):
    first = client.get("/api/8/8/")

    revalidated = client.get("/api/8/8/", HTTP_IF_NONE_MATCH=first["ETag"])
    other_etag = client.get("/api/8/8/", HTTP_IF_NONE_MATCH='"something-else"')

    assert first["Cache-Control"] == "private, no-cache"
    assert first["Vary"] == "Authorization, Accept-Language"
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    assert revalidated["ETag"] == first["ETag"]
    assert other_etag.status_code == 200


def test_a_page_filled_for_one_client_is_shared_with_another_but_not_their_limits(client, issue_token):
    _, limited = issue_token("one-per-minute", rate="1/minute")
    filled = client.get("/api/9/9/")

    shared = authed(limited).get("/api/9/9/")
    over_limit = authed(limited).get("/api/9/9/")

    assert (filled["X-Cache"], shared["X-Cache"]) == ("MISS", "HIT")
    assert shared.content == filled.content
    assert over_limit.status_code == 429


def test_a_request_without_a_valid_token_never_gets_a_cached_page(client, anonymous):
    client.get("/api/10/10/")

    response = anonymous.get("/api/10/10/")

    assert response.status_code == 401
    assert b"user_10" not in response.content


def test_proxied_lists_are_keyed_by_host_and_query(client, issue_token, settings):
    settings.ALLOWED_HOSTS = ["testserver", "other.example"]
    _, key = issue_token("other-host")
    first = client.get("/api/products/?page_size=2")
    same = client.get("/api/products/?page_size=2")
    other_query = client.get("/api/products/?page_size=3")
    other_host = authed(key, HTTP_HOST="other.example").get("/api/products/?page_size=2")

    assert [r["X-Cache"] for r in (first, same, other_query, other_host)] == ["MISS", "HIT", "MISS", "MISS"]
    assert json.loads(other_host.content)["next"].startswith("http://other.example/")


def test_a_patch_through_the_gateway_is_visible_on_the_next_aggregate_every_time(client):
    stale = 0
    for stock in range(20):
        client.get("/api/11/12/")  # cached
        patched = client.patch("/api/products/12/", json.dumps({"stock": stock}), "application/json")
        after = client.get("/api/11/12/")
        stale += after.json()["product"]["stock"] != stock or patched.status_code != 200

    assert stale == 0


def test_a_direct_service_write_is_visible_on_the_next_aggregate(client, services):
    import httpx

    client.get("/api/13/13/")
    httpx.patch(
        f"{services.url('users')}/api/users/13/",
        json={"full_name": "Changed Behind The Gateway"},
        headers={"X-Service-Token": "test-service-credential"},
    )

    after = client.get("/api/13/13/")

    assert after["X-Cache"] == "STALE"
    assert after.json()["user"]["full_name"] == "Changed Behind The Gateway"


def test_errors_are_not_cached(client):
    first = client.get("/api/1/999999/")
    second = client.get("/api/1/999999/")

    assert (first.status_code, second.status_code) == (404, 404)
    assert "X-Cache" not in first and "X-Cache" not in second


def test_with_the_cache_disabled_every_request_reaches_the_services(client, services, settings):
    settings.PAGE_CACHE_ENABLED = False
    before = upstream_calls(services, 14, 14)

    responses = [client.get("/api/14/14/") for _ in range(3)]

    assert [r.get("X-Cache") for r in responses] == [None, None, None]
    assert upstream_calls(services, 14, 14) == (before[0] + 3, before[1] + 3)


def test_with_redis_unreachable_pages_come_from_the_services(client, settings):
    caches = {**settings.CACHES}
    caches["default"] = {**caches["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    settings.CACHES = caches

    responses = [client.get("/api/15/15/") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json()["user"]["id"] == 15
