"""The fast paths: page-cache hits answered before Django, by the same rules as the Django path.

Every test runs twice: on the WSGI fast path (gthread) and on the ASGI application the gateway serves
under gunicorn's asgi worker, where a hit is answered on the event loop and Django runs on the bridge.
"""

import asyncio
import json
import logging
import time

import httpx
import pytest
from django_redis import get_redis_connection

from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test import RequestFactory

from pagecache.asyncpath import AsyncFastPathApplication
from pagecache.fastpath import FastPathApplication
from pagecache.keys import aggregate_spec
from ratelimit.loop_redis import loop_redis
from svc_common.logging import JsonFormatter

pytestmark = pytest.mark.django_db(transaction=True)


def wsgi_caller(application):
    def request(path: str, **headers):
        environ = RequestFactory().get(path, **headers).environ
        captured = {}

        def start_response(status, response_headers):
            captured["status"] = int(status.split()[0])
            captured["headers"] = httpx.Headers(response_headers)

        body = b"".join(application(environ, start_response))
        return captured["status"], captured["headers"], body

    return request


class AsgiCaller:
    """Calls the ASGI application on one event loop, as a worker does (the loop keeps its Redis connections)."""

    def __init__(self, application):
        self.application = application
        self.loop = asyncio.new_event_loop()

    def __call__(self, path: str, **headers):
        return self.loop.run_until_complete(self.fetch(path, **headers))

    async def fetch(self, path: str, **headers):
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")]
            + [(name[5:].replace("_", "-").lower().encode(), value.encode()) for name, value in headers.items()],
            "server": ("testserver", 80),
            "client": ("127.0.0.1", 50000),
        }
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await self.application(scope, receive, send)
        start, body = sent
        return start["status"], httpx.Headers(start["headers"]), body["body"]

    def close(self) -> None:
        self.application.bridge.close()
        if loop_redis.loop is self.loop:
            self.loop.run_until_complete(self._disconnect(loop_redis.idle))
        self.loop.close()

    @staticmethod
    async def _disconnect(connections: list) -> None:
        await asyncio.gather(*(connection.disconnect() for connection in connections))


@pytest.fixture(params=["wsgi", "asgi"])
def call(request):
    if request.param == "wsgi":
        yield wsgi_caller(FastPathApplication(get_wsgi_application()))
        return
    caller = AsgiCaller(AsyncFastPathApplication(get_wsgi_application()))
    yield caller
    caller.close()


def test_a_hit_is_served_with_the_same_headers_as_the_django_path(call, issue_token):
    _, key = issue_token("fast", rate="100/minute")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}", "HTTP_X_REQUEST_ID": "fast-path-id-1"}

    miss_status, miss_headers, miss_body = call("/api/2/3/", **auth)
    hit_status, hit_headers, hit_body = call("/api/2/3/", **auth)

    assert (miss_status, hit_status) == (200, 200)
    assert (miss_headers["X-Cache"], hit_headers["X-Cache"]) == ("MISS", "HIT")
    assert hit_body == miss_body
    for name in (
        "ETag",
        "Cache-Control",
        "Vary",
        "Content-Type",
        "RateLimit-Policy",
        "X-Content-Type-Options",
        "X-Frame-Options",
        "Referrer-Policy",
    ):
        assert hit_headers[name] == miss_headers[name], name
    assert (miss_headers["RateLimit"], hit_headers["RateLimit"]) == ('"read";r=99;t=1', '"read";r=98;t=2')
    assert hit_headers["X-Request-ID"] == "fast-path-id-1"
    assert hit_headers["Server-Timing"].startswith("cache;dur=")
    # A length, not chunked encoding: one write for the body and no terminating chunk.
    assert hit_headers["Content-Length"] == str(len(hit_body))


def test_a_hit_writes_one_json_line_with_its_request_id_and_client(call, issue_token, caplog):
    client, key = issue_token("logged")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}", "HTTP_X_REQUEST_ID": "fast-path-log-1"}
    call("/api/7/8/", **auth)
    formatter = JsonFormatter()

    with caplog.at_level(logging.INFO, logger="svc_common.request"):
        call("/api/7/8/", **auth)

    lines = [json.loads(formatter.format(record)) for record in caplog.records if record.name == "svc_common.request"]
    assert len(lines) == 1
    assert {name: lines[0][name] for name in ("request_id", "path", "route", "status", "cache", "client_id")} == {
        "request_id": "fast-path-log-1",
        "path": "/api/7/8/",
        "route": "user-product",
        "status": 200,
        "cache": "HIT",
        "client_id": client.id,
    }


def test_each_request_is_metered_once_whichever_path_answers_it(call, issue_token):
    _, key = issue_token("three", rate="3/minute")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}

    results = [call("/api/4/5/", **auth) for _ in range(4)]

    assert [(status, headers.get("X-Cache")) for status, headers, _ in results] == [
        (200, "MISS"),
        (200, "HIT"),
        (200, "HIT"),
        (429, None),
    ]


def test_if_none_match_gets_304_on_the_fast_path(call, issue_token):
    _, key = issue_token("etag")
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    _, headers, _ = call("/api/6/6/", **auth)

    status, revalidated, body = call("/api/6/6/", HTTP_IF_NONE_MATCH=headers["ETag"], **auth)

    assert (status, body, revalidated["X-Cache"]) == (304, b"", "HIT")


def test_requests_without_a_valid_token_go_to_django_and_get_401(call):
    status, headers, _ = call("/api/2/3/")
    bad_status, _, _ = call("/api/2/3/", HTTP_AUTHORIZATION="Token " + "Z" * 40)

    assert (status, bad_status) == (401, 401)
    assert headers["WWW-Authenticate"] == 'Token realm="api"'


def test_on_the_event_loop_consecutive_hits_reuse_one_redis_connection(issue_token):
    _, key = issue_token("reuse", unlimited=True)
    caller = AsgiCaller(AsyncFastPathApplication(get_wsgi_application()))
    try:
        caller("/api/5/5/", HTTP_AUTHORIZATION=f"Token {key}")
        first = list(loop_redis.idle)
        statuses = [caller("/api/5/5/", HTTP_AUTHORIZATION=f"Token {key}")[0] for _ in range(3)]
        after = list(loop_redis.idle)
    finally:
        caller.close()

    assert statuses == [200, 200, 200]
    assert len(first) == 1 and after == first


def command_calls(redis, *commands: str) -> int:
    """How many times Redis has run these commands (server-wide INFO commandstats)."""
    stats = redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{command}", {}).get("calls", 0) for command in commands)


async def until(condition, timeout: float = 5.0) -> None:
    """Poll condition() while the event loop keeps serving; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_requests_waiting_for_a_fill_hold_none_of_djangos_threads_and_get_the_page_as_a_hit(
    settings, issue_token, client
):
    settings.WSGI_BRIDGE_THREADS = 1
    settings.PAGE_CACHE_WAIT_SECONDS = 10
    _, key = issue_token("waiter", unlimited=True)
    spec = aggregate_spec("3", "9")
    redis = get_redis_connection("default")
    # Another replica is filling this page.
    redis.set(spec.lock_key, "another-replica", px=10_000)
    caller = AsgiCaller(AsyncFastPathApplication(get_wsgi_application()))

    def fill_through_django():
        try:
            return client.get("/api/3/9/")
        finally:
            connections.close_all()  # this thread's, so the test database can be dropped

    async def scenario():
        # A token's first request authenticates on Django's path, which waits on its thread: not this one.
        await caller.fetch("/api/1/2/", HTTP_AUTHORIZATION=f"Token {key}")
        scripts, polls = command_calls(redis, "evalsha", "eval"), command_calls(redis, "hmget")
        waiters = [asyncio.ensure_future(caller.fetch("/api/3/9/", HTTP_AUTHORIZATION=f"Token {key}")) for _ in "ab"]
        # Ready when both ran the access script and the page is being polled for from the loop.
        await until(
            lambda: (
                command_calls(redis, "evalsha", "eval") >= scripts + 2 and command_calls(redis, "hmget") >= polls + 4
            )
        )
        # The bridge's only thread is free for other requests meanwhile.
        other_status, _, _ = await caller.fetch("/healthz")
        still_waiting = [not waiter.done() for waiter in waiters]
        # The other replica's fill lands: this process fills the page through Django in its place.
        redis.delete(spec.lock_key)
        filled = await asyncio.get_running_loop().run_in_executor(None, fill_through_django)
        return other_status, still_waiting, filled, await asyncio.gather(*waiters)

    try:
        other_status, still_waiting, filled, waited = caller.loop.run_until_complete(scenario())
    finally:
        caller.close()

    assert (other_status, still_waiting) == (200, [True, True])
    assert filled["X-Cache"] == "MISS"
    assert [(status, headers["X-Cache"], body) for status, headers, body in waited] == [
        (200, "HIT", filled.content),
        (200, "HIT", filled.content),
    ]
