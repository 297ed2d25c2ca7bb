"""The gateway's page cache (access.pages): keyed on what a response depends on, shared across clients, never stale,
and the same whichever way a request is served."""

import json

import pytest

pytestmark = pytest.mark.django_db


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


def test_a_page_filled_for_one_client_is_shared_with_another_but_not_their_limits(client, issue_token, authed):
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


def test_proxied_lists_are_keyed_by_host_and_query(client, issue_token, settings, authed):
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


def test_with_redis_unreachable_pages_come_from_the_services(client, point_redis_at):
    point_redis_at()

    responses = [client.get("/api/15/15/") for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert responses[0].json()["user"]["id"] == 15


# A shared cache stores only what every client may see (nginx's proxy_cache_convert_head, Varnish's builtin VCL).


@pytest.mark.parametrize("path", ["/api/products/?page_size=7&ordering=-id", "/api/16/17/"])
def test_a_head_then_a_get_by_another_client_gets_the_full_body(client, issue_token, authed, path):
    _, other = issue_token("another-client")

    head = client.head(path)
    get = authed(other).get(path)

    assert (head.status_code, head.content) == (200, b"")
    assert (get.status_code, get["X-Cache"]) == (200, "HIT")
    assert int(get["Content-Length"]) == len(get.content) == int(head["Content-Length"]) > 50
    assert get["ETag"] == head["ETag"]
    assert get.json()  # a whole JSON document, not an empty page


def test_an_options_request_never_changes_what_a_later_get_returns(client):
    options = client.options("/api/products/?page_size=3")
    get = client.get("/api/products/?page_size=3")

    assert options.status_code == 200
    assert get["X-Cache"] == "MISS"
    assert len(get.json()["results"]) == 3


def test_a_write_is_never_stored_and_invalidates_the_pages_it_changes(client):
    client.get("/api/products/18/")
    patched = client.patch("/api/products/18/", json.dumps({"stock": 77}), "application/json")
    after = client.get("/api/products/18/")

    assert "X-Cache" not in patched
    assert (after["X-Cache"], after.json()["stock"]) == ("STALE", 77)


# Cache keys stay bounded: only the route's own query parameters, sorted, make the key and reach the service.


def test_parameters_in_another_order_share_one_page(client):
    first = client.get("/api/products/?page_size=2&ordering=-id")
    second = client.get("/api/products/?ordering=-id&page_size=2")

    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert first.content == second.content


def test_unknown_parameters_neither_mint_pages_nor_reach_the_service(client):
    from django_redis import get_redis_connection

    first = client.get("/api/users/?page_size=2&cache_buster=1")
    second = client.get("/api/users/?cache_buster=2&page_size=2")
    browsable = client.get("/api/users/?page_size=2&format=api")  # DRF's format override, if it reached the service

    assert [r["X-Cache"] for r in (first, second, browsable)] == ["MISS", "HIT", "HIT"]
    assert browsable["Content-Type"] == "application/json"
    assert len(get_redis_connection("default").keys("gw:page:*")) == 1


def test_a_repeated_parameter_keeps_its_values_in_order(client):
    first = client.get("/api/products/?ordering=-stock&page_size=4&ordering=-id")
    swapped = client.get("/api/products/?ordering=-id&page_size=4&ordering=-stock")

    assert (first["X-Cache"], swapped["X-Cache"]) == ("MISS", "MISS")


# What the aggregate's pattern matches, and what a proxied path may contain.


def test_a_trailing_encoded_newline_is_not_the_aggregate(client):
    client.get("/api/1/1/")

    response = client.get("/api/1/1/%0A")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_encoded_slash_in_a_proxied_path_is_refused_even_when_the_page_is_cached(client, served_by):
    cached = client.get("/api/users/1/")
    # Django's test client decodes paths before the application sees them; a WSGI server such as gunicorn
    # passes the raw one as RAW_URI, and an ASGI server as raw_path.
    extra = {"RAW_URI": "/api/users/1%2F"} if served_by == "django" else {}

    response = client.get("/api/users/1%2F", **extra)

    assert cached.status_code == 200
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "unsafe_path",
        "message": "Encoded separators are not allowed in the path.",
        "detail": None,
    }


# A hit is answered like a miss: the same headers, apart from the cache's own.


@pytest.mark.parametrize("path", ["/api/19/20/", "/api/products/17/", "/api/users/?page_size=2"])
def test_a_hit_and_a_miss_of_a_route_carry_the_same_headers_apart_from_the_caches_own(client, path):
    miss = client.get(path)
    hit = client.get(path)

    assert (miss["X-Cache"], hit["X-Cache"]) == ("MISS", "HIT")
    cache_own = {"x-cache", "server-timing", "age"}
    assert {name.lower() for name, _ in hit.items()} - cache_own == {
        name.lower() for name, _ in miss.items()
    } - cache_own
    for name in ("Content-Type", "Vary", "Cache-Control", "ETag", "X-Frame-Options", "X-Content-Type-Options"):
        assert hit[name] == miss[name]


def test_both_ways_answer_a_hit_with_the_same_headers_and_body(client, issue_token, application):
    from django.test import Client

    from support.asgi_client import AsgiClient

    _, key = issue_token("both-ways", unlimited=True)
    client.get("/api/22/23/")
    on_loop = AsgiClient(application, HTTP_AUTHORIZATION=f"Token {key}").get("/api/22/23/")
    in_django = Client(HTTP_AUTHORIZATION=f"Token {key}").get("/api/22/23/")

    assert on_loop.content == in_django.content
    own = {"server-timing", "x-request-id"}
    loop_headers = {name.lower(): value for name, value in on_loop.items() if name.lower() not in own}
    django_headers = {name.lower(): value for name, value in in_django.items() if name.lower() not in own}
    assert loop_headers == django_headers


# Single flight: one request fills a page, and only it may free the lock it took.


def test_a_late_filler_does_not_free_the_lock_of_the_request_that_took_it_over(issue_token, settings):
    from django_redis import get_redis_connection

    from access import pages, step
    from access.decision import Verdict
    from access.request import AccessRequest
    from gateway_project.eventloop import run_sync

    _, key = issue_token("fillers", unlimited=True)
    meta = {"HTTP_AUTHORIZATION": f"Token {key}", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "testserver"}
    request = AccessRequest("GET", "/api/24/25/", "/api/24/25/", "", meta, "request-id-1")
    redis = get_redis_connection("default")
    from clients.records import token_record, token_record_key
    from clients.services import token_authenticate

    # The token's record is cached, as a first request caches it.
    ticket = run_sync(step.decide(request)).ticket
    token = token_authenticate(key=key)
    run_sync(step.remember(request, token_record_key(token.key_hash), ticket, token_record(token), guessable=True))
    late = run_sync(step.decide(request))
    redis.delete(late.fill.spec.lock_key)  # the late filler overran its lock's ttl
    current = run_sync(step.decide(request))

    run_sync(pages.release(fill=late.fill))
    after_release = redis.get(current.fill.spec.lock_key)
    page = pages.CachedPage('"etag"', "application/json", b"{}")
    run_sync(pages.store(fill=late.fill, page=page))
    after_store = redis.get(current.fill.spec.lock_key)
    run_sync(pages.store(fill=current.fill, page=page))

    assert (late.verdict, current.verdict) == (Verdict.FILL, Verdict.FILL)
    assert late.fill.owner != current.fill.owner
    assert after_release == after_store == current.fill.owner.encode()
    assert redis.get(current.fill.spec.lock_key) is None


@pytest.fixture
def decide_for(issue_token):
    """The access step for a GET of `path` by a client whose token record is cached, as after its first request."""
    from access import step
    from access.request import AccessRequest
    from clients.records import token_record, token_record_key
    from clients.services import token_authenticate
    from gateway_project.eventloop import run_sync

    _, key = issue_token("waiters", unlimited=True)
    meta = {"HTTP_AUTHORIZATION": f"Token {key}", "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "testserver"}

    def request_for(target: str) -> AccessRequest:
        path, _, query = target.partition("?")
        return AccessRequest("GET", path, path, query, meta, "request-id-1")

    ticket = run_sync(step.decide(request_for("/api/1/1/"))).ticket
    token = token_authenticate(key=key)
    run_sync(
        step.remember(request_for("/"), token_record_key(token.key_hash), ticket, token_record(token), guessable=True)
    )
    return lambda path: run_sync(step.decide(request_for(path)))


def test_a_fill_of_data_a_write_has_since_changed_is_taken_over_not_waited_for(decide_for):
    from django_redis import get_redis_connection

    from access import pages
    from access.decision import Verdict
    from gateway_project.eventloop import run_sync

    redis = get_redis_connection("default")
    filling = decide_for("/api/products/?search=lamp")
    redis.incr(filling.fill.spec.generation_keys[0])  # a product written meanwhile
    after_the_write = decide_for("/api/products/?search=lamp")
    alongside = decide_for("/api/products/?search=lamp")
    run_sync(pages.store(fill=filling.fill, page=pages.CachedPage('"old"', "application/json", b"[]")))

    # The first fill stores what it read before the write, already stale: the next request fills again, and
    # the one after it waits for that fill, not the first.
    assert (filling.verdict, after_the_write.verdict, alongside.verdict) == (Verdict.FILL, Verdict.FILL, Verdict.WAIT)
    assert after_the_write.fill.generations == alongside.fill.generations != filling.fill.generations
    assert after_the_write.fill.owner.endswith(f"@{after_the_write.fill.generations}")
    # The first filler's store leaves the lock it lost alone.
    assert redis.get(filling.fill.spec.lock_key) == after_the_write.fill.owner.encode()


def test_a_request_waiting_for_a_fill_stops_once_the_filler_gives_up_its_lock(decide_for, settings):
    import asyncio
    import time

    from access import pages, step
    from access.decision import Verdict
    from gateway_project.eventloop import run_sync

    settings.PAGE_CACHE_WAIT_SECONDS = 5
    filling = decide_for("/api/products/?ordering=-price")
    waiting = decide_for("/api/products/?ordering=-price")

    async def filler_gives_up_while_the_other_waits():
        async def give_up():
            await asyncio.sleep(0.2)
            await pages.release(fill=filling.fill)  # its answer was not cacheable, say

        started = time.monotonic()
        settled, _ = await asyncio.gather(step.wait_for_fill(waiting), give_up())
        return settled, time.monotonic() - started

    settled, waited = run_sync(filler_gives_up_while_the_other_waits())

    assert (filling.verdict, waiting.verdict, settled.verdict) == (Verdict.FILL, Verdict.WAIT, Verdict.FILL)
    assert settled.fill.owner is None
    assert waited < 1  # not PAGE_CACHE_WAIT_SECONDS


# An aggregate is composed from its parts' pages (the detail pages the proxy fills), fetched only where missing.


def test_an_aggregate_whose_parts_are_cached_is_composed_without_calling_a_service(client, services):
    user = client.get("/api/users/3/")
    product = client.get("/api/products/4/")
    before = upstream_calls(services, 3, 4)

    composed = client.get("/api/3/4/")

    assert (user["X-Cache"], product["X-Cache"], composed["X-Cache"]) == ("MISS", "MISS", "HIT")
    assert upstream_calls(services, 3, 4) == before
    assert composed.json() == {"user": user.json(), "product": product.json()}


def test_an_aggregate_fetches_only_its_missing_part_and_stores_the_parts_it_fetched(client, services):
    client.get("/api/5/6/")
    before = upstream_calls(services, 5, 7)

    other_product = client.get("/api/5/7/")
    after = upstream_calls(services, 5, 7)
    miss = client.get("/api/products/9/")
    user_detail = client.get("/api/users/5/")

    assert other_product["X-Cache"] == "MISS"
    assert after == (before[0], before[1] + 1)
    assert user_detail["X-Cache"] == "HIT"
    assert user_detail.json() == other_product.json()["user"]
    cache_own = {"x-cache", "server-timing", "etag", "content-length"}
    assert {n.lower() for n, _ in user_detail.items()} - cache_own == {n.lower() for n, _ in miss.items()} - cache_own


def test_a_write_to_a_part_makes_every_aggregate_with_it_fetch_it_again(client):
    client.get("/api/users/8/")
    client.patch("/api/users/8/", json.dumps({"full_name": "Renamed Part"}), "application/json")

    aggregate = client.get("/api/8/9/")

    assert aggregate["X-Cache"] == "MISS"
    assert aggregate.json()["user"]["full_name"] == "Renamed Part"


def test_a_read_that_declares_an_oversized_body_is_refused_even_when_its_page_is_cached(client, settings):
    client.get("/api/users/2/")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.generic("GET", "/api/users/2/", "x" * 500, "application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
