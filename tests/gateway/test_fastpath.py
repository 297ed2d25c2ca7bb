"""The fast paths: page-cache hits answered before Django, by the same rules as the Django path.

Every test runs twice: on the WSGI fast path (gthread) and on the ASGI application the gateway serves
under gunicorn's asgi worker, where a hit is answered on the event loop and Django runs on the bridge.
"""

import asyncio
import json
import logging

import httpx
import pytest

from django.core.wsgi import get_wsgi_application
from django.test import RequestFactory

from pagecache.asyncpath import AsyncFastPathApplication
from pagecache.fastpath import FastPathApplication
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


def asgi_caller(application):
    def request(path: str, **headers):
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

        asyncio.run(application(scope, receive, send))
        start, body = sent
        return start["status"], httpx.Headers(start["headers"]), body["body"]

    return request


@pytest.fixture(params=["wsgi", "asgi"])
def call(request):
    if request.param == "wsgi":
        yield wsgi_caller(FastPathApplication(get_wsgi_application()))
        return
    application = AsyncFastPathApplication(get_wsgi_application())
    yield asgi_caller(application)
    application.bridge.executor.shutdown()


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
