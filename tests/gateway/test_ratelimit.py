"""Distributed rate limiting: GCRA in one Redis script, IETF RateLimit headers, and the Redis-down policy."""

import time

import pytest

from clients.rates import Policy, parse_rate
from support.redis_server import RedisServer
from svc_common.breaker import redis_breaker

pytestmark = pytest.mark.django_db


def test_rates_parse_into_limits_and_periods():
    assert parse_rate("600/minute") == Policy(600, 60_000)
    assert parse_rate("5/s") == Policy(5, 1000)
    assert parse_rate("2/hour") == Policy(2, 3_600_000)


def test_a_limited_client_gets_exactly_its_limit_then_429_with_headers(issue_token, authed):
    _, key = issue_token("limited", rate="5/minute")
    client = authed(key)

    responses = [client.get("/api/1/1/") for _ in range(7)]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 429, 429]
    assert [r["RateLimit"] for r in responses[:5]] == [
        f'"read";r={n};t={t}' for n, t in zip([4, 3, 2, 1, 0], [12, 24, 36, 48, 60])
    ]
    assert {r["RateLimit-Policy"] for r in responses} == {'"read";q=5;w=60'}
    limited = responses[5]
    assert limited["RateLimit"] == '"read";r=0;t=60'
    assert 11 <= int(limited["Retry-After"]) <= 12
    assert limited.json()["error"] == {"code": "rate_limited", "message": "Too many requests.", "detail": None}


def test_reads_and_writes_are_metered_separately(issue_token, settings, authed):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "2/minute", "write": "1/minute"}
    _, key = issue_token("groups")
    client = authed(key)

    reads = [client.get("/api/products/1/").status_code for _ in range(3)]
    writes = [client.patch("/api/products/1/", "{}", "application/json").status_code for _ in range(2)]

    assert reads == [200, 200, 429]
    assert writes == [200, 429]


def test_limits_are_per_token_owner_not_global(issue_token, authed):
    _, first = issue_token("first", rate="1/minute")
    _, second = issue_token("second", rate="1/minute")

    assert authed(first).get("/api/1/1/").status_code == 200
    assert authed(first).get("/api/1/1/").status_code == 429
    assert authed(second).get("/api/1/1/").status_code == 200


def test_an_unlimited_client_gets_no_ratelimit_headers(client):
    response = client.get("/api/1/1/")

    assert response.status_code == 200
    assert "RateLimit" not in response and "RateLimit-Policy" not in response


def test_with_redis_unreachable_and_fail_open_requests_pass_unmetered(issue_token, settings, authed, point_redis_at):
    _, key = issue_token("open", rate="1/minute")
    settings.RATE_LIMIT_FAIL_OPEN = True
    point_redis_at()

    statuses = [authed(key).get("/api/1/1/").status_code for _ in range(3)]
    bad_token = authed("B" * 40).get("/api/1/1/")

    assert statuses == [200, 200, 200]
    assert bad_token.status_code == 401


def test_with_redis_unreachable_and_fail_closed_requests_get_429_not_5xx(issue_token, settings, authed, point_redis_at):
    _, key = issue_token("closed")
    settings.RATE_LIMIT_FAIL_OPEN = False
    point_redis_at()

    response = authed(key).get("/api/1/1/")

    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "rate_limiter_unavailable"


@pytest.fixture
def paused_redis(tmp_path, point_redis_at):
    """A Redis of the test's own, stopped with SIGSTOP: connections open, commands never answered."""
    server = RedisServer(tmp_path)
    server.start()
    point_redis_at(server.url)
    server.pause()
    yield server
    server.stop()


def test_with_redis_paused_a_request_is_answered_unmetered_after_one_socket_timeout(
    issue_token, settings, authed, paused_redis
):
    _, key = issue_token("paused", rate="1/minute")
    settings.RATE_LIMIT_FAIL_OPEN = True
    client = authed(key)

    started = time.monotonic()
    response = client.get("/api/1/1/")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert sorted(response.json()) == ["product", "user"]
    assert "RateLimit" not in response
    # The access step's command timed out as a RedisError: the breaker opened instead of a 500 or a hang.
    assert redis_breaker.available() is False
    timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]
    assert timeout <= elapsed < timeout + 1.5


def test_a_request_the_event_loop_hands_to_django_is_metered_once(issue_token, authed, settings):
    # The loop decides, Django carries the decision out (a2wsgi runs Django in a copy of the loop task's
    # context): deciding again on Django's side would spend two steps of the limit per request.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "write": "2/minute"}
    _, key = issue_token("metered-once")
    client = authed(key)

    statuses = [client.patch("/api/products/3/", "{}", "application/json").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


# Rate state never has a TTL, so an eviction policy that spares such keys (volatile-lfu) never drops it; the
# unbounded families are listed in the expiry set and deleted by later calls.


def test_rate_state_and_token_records_have_no_ttl_and_address_keys_are_listed_for_deletion(issue_token, authed):
    from django_redis import get_redis_connection

    from clients.records import token_record_key
    from clients.tokens import token_hash

    client, key = issue_token("no-ttl", rate="5/minute")
    redis = get_redis_connection("default")

    authed(key).get("/api/1/1/")
    authed("0" * 40).get("/api/1/1/")

    record, address = token_record_key(token_hash(key)), "gw:rl:auth:ip:127.0.0.1"
    client_rate = f"gw:rl:read:c{client.pk}"
    assert [redis.ttl(name) for name in (record, address, client_rate)] == [-1, -1, -1]
    listed = dict(redis.zrange("gw:expiry", 0, -1, withscores=True))
    assert {record.encode(), address.encode(), token_record_key(token_hash("0" * 40)).encode()} == set(listed)
    assert client_rate.encode() not in listed


def test_keys_past_their_time_are_deleted_by_later_calls(authed):
    from django_redis import get_redis_connection

    redis = get_redis_connection("default")
    due = [f"gw:rl:auth:ip:198.51.100.{n}" for n in range(10)]
    for name in due:
        redis.set(name, "1")
        redis.zadd("gw:expiry", {name: 1})

    authed("0" * 40).get("/api/1/1/")
    first = redis.exists(*due)
    authed("1" * 40).get("/api/1/1/")
    second = redis.exists(*due)

    # An unknown token lists two keys (its address's step, its ticket); each listing deletes up to four due keys.
    assert (first, second) == (2, 0)
    assert redis.zscore("gw:expiry", due[0]) is None
