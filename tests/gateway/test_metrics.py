"""The gateway's metrics and Server-Timing: routes, upstream latency and errors, cache results, 429s by group."""

import re

import pytest
from prometheus_client import REGISTRY

from django.http import HttpResponse
from django.test import Client, RequestFactory

from status.rejections import rejection_group
from svc_common import metrics
from svc_common.errors import error_response
from svc_common.server_timing import server_timing

pytestmark = pytest.mark.django_db


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_needs_no_token_and_lists_the_gateway_series():
    response = Client().get("/metrics")

    text = response.content.decode()
    assert response.status_code == 200
    for family in (
        "django_http_requests_total counter",
        "django_http_request_duration_seconds histogram",
        "django_http_cache_results_total counter",
        "gateway_upstream_request_duration_seconds histogram",
        "gateway_upstream_errors_total counter",
        "gateway_rate_limited_total counter",
        "service_dependency_up gauge",
    ):
        assert f"# TYPE {family}" in text


def test_metrics_is_refused_to_an_outside_address_with_403():
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Metrics are served to the monitoring network only."


def test_an_aggregate_counts_one_request_under_its_route_and_one_call_per_upstream(client):
    before = {
        "requests": sample("django_http_requests_total", route="user-product", method="GET", status="200"),
        "users": sample("gateway_upstream_request_duration_seconds_count", service="users"),
        "products": sample("gateway_upstream_request_duration_seconds_count", service="products"),
    }

    response = client.get("/api/11/12/")

    assert response.status_code == 200
    assert sample("django_http_requests_total", route="user-product", method="GET", status="200") == (
        before["requests"] + 1
    )
    assert sample("gateway_upstream_request_duration_seconds_count", service="users") == before["users"] + 1
    assert sample("gateway_upstream_request_duration_seconds_count", service="products") == before["products"] + 1


def test_a_cached_answer_is_counted_as_a_hit_under_its_route(client, settings):
    client.get("/api/13/14/")
    before = sample("django_http_cache_results_total", route="user-product", result="hit")

    response = client.get("/api/13/14/")

    assert response["X-Cache"] == "HIT"
    assert sample("django_http_cache_results_total", route="user-product", result="hit") == before + 1


def test_x_cache_values_are_counted_as_hit_miss_stale_or_other():
    request = RequestFactory().get("/api/users/")
    results = ("hit", "miss", "stale", "other")
    before = [sample("django_http_cache_results_total", route="proxy", result=result) for result in results]

    for value in ("HIT", "MISS", "STALE", "BYPASS", "hit"):
        response = HttpResponse()
        response["X-Cache"] = value
        metrics.record(request, response, 0.001)

    after = [sample("django_http_cache_results_total", route="proxy", result=result) for result in results]
    assert [now - then for now, then in zip(after, before, strict=True)] == [2, 1, 1, 1]


def test_an_upstream_that_never_answers_is_counted_as_a_timeout_of_that_service(client, settings, silent_server):
    settings.USERS_SERVICE_URL = silent_server
    settings.UPSTREAM_READ_TIMEOUT = 0.2
    before = sample("gateway_upstream_errors_total", service="users", reason="upstream_timeout")

    response = client.get("/api/users/1/")

    assert response.status_code == 504
    assert sample("gateway_upstream_errors_total", service="users", reason="upstream_timeout") == before + 1


def test_an_unreachable_upstream_is_counted_as_unavailable(client, settings):
    settings.PRODUCTS_SERVICE_URL = "http://127.0.0.1:1"
    before = sample("gateway_upstream_errors_total", service="products", reason="upstream_unavailable")

    response = client.get("/api/products/1/")

    assert response.status_code == 502
    assert sample("gateway_upstream_errors_total", service="products", reason="upstream_unavailable") == before + 1


def test_rate_limit_rejections_are_counted_by_group(issue_token, authed):
    _, key = issue_token("metered", rate="1/minute")
    before = {group: sample("gateway_rate_limited_total", group=group) for group in ("read", "write")}

    statuses = [authed(key).get("/api/users/").status_code for _ in range(3)]
    statuses.append(authed(key).post("/api/users/", {}, content_type="application/json").status_code)
    statuses.append(authed(key).post("/api/users/", {}, content_type="application/json").status_code)

    assert statuses[:3] == [200, 429, 429]
    assert statuses[4] == 429
    assert sample("gateway_rate_limited_total", group="read") == before["read"] + 2
    assert sample("gateway_rate_limited_total", group="write") == before["write"] + 1


def test_a_429_without_a_policy_header_is_the_auth_throttle_or_a_limiter_outage():
    throttled = error_response(429, "rate_limited", "Too many failed authentication attempts.")
    outage = error_response(429, "rate_limiter_unavailable", "Requests cannot be metered right now; retry shortly.")
    metered = error_response(429, "rate_limited", "Too many requests.")
    metered["RateLimit-Policy"] = '"write";q=120;w=60'

    assert [rejection_group(response) for response in (throttled, outage, metered)] == ["auth", "unavailable", "write"]


def test_server_timing_names_each_upstream_the_cache_and_the_total(client):
    aggregate = client.get("/api/15/16/")
    proxied = client.get("/api/users/17/")

    number = r"\d+\.\d"

    def cache(response) -> str:  # present when the page cache answered or looked (X-Cache)
        return rf"cache;(dur={number};)?desc={response['X-Cache']}, " if response.has_header("X-Cache") else ""

    timings = (aggregate["Server-Timing"], proxied["Server-Timing"])
    assert re.fullmatch(
        rf"users;dur={number}, products;dur={number}, {cache(aggregate)}total;dur={number}", timings[0]
    ), timings
    assert re.fullmatch(rf"users;dur={number}, {cache(proxied)}total;dur={number}", timings[1]), timings


def test_server_timing_is_built_from_the_request_timings_and_x_cache():
    request = RequestFactory().get("/api/1/1/")
    request.upstream_timings = {"users": 12.345, "products": 3}
    request.cache_timing_ms = 0.42
    response = HttpResponse()
    response["X-Cache"] = "STALE"

    assert server_timing(request, response, 20.04) == (
        "users;dur=12.3, products;dur=3.0, cache;dur=0.4;desc=STALE, total;dur=20.0"
    )


def test_a_request_rejected_before_routing_is_still_counted_under_its_route(anonymous):
    before = sample("django_http_requests_total", route="user-product", method="GET", status="401")

    response = anonymous.get("/api/1/1/")

    assert response.status_code == 401
    assert sample("django_http_requests_total", route="user-product", method="GET", status="401") == before + 1
