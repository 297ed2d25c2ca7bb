"""Prometheus metrics of a replica: requests by route and status, cache results, dependency health, /metrics.

Under gunicorn each worker process writes its values to PROMETHEUS_MULTIPROC_DIR (one directory per
replica, emptied before the replica starts) and a scrape, answered by any worker, sums them all.
Without that variable the values live in the process, which is right for one worker and for tests.
"""

import functools
import logging
import os
import time

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from django.conf import settings
from django.http import HttpResponse

from . import probes
from .client_ip import client_ip
from .errors import error_response
from .networks import in_networks
from .routes import route_name

logger = logging.getLogger("svc_common.metrics")

METRICS_PATH = "/metrics"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
CACHE_RESULTS = frozenset({"hit", "miss", "stale"})

REQUESTS = Counter(
    "django_http_requests_total",
    "HTTP requests answered, by route (URL pattern name), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "django_http_request_duration_seconds",
    "Time to answer an HTTP request, by route (URL pattern name), method and status.",
    ["route", "method", "status"],
)
CACHE = Counter(
    "django_http_cache_results_total",
    "Responses that carried an X-Cache header, by route and result (hit, miss, stale, other).",
    ["route", "result"],
)


def record(request, response, seconds: float) -> None:
    """Count and time one answered request; count its X-Cache result if it has one."""
    method = request.method if request.method in KNOWN_METHODS else "other"
    count(route_name(request), method, response.status_code, seconds, response.get("X-Cache"))


def count(route: str, method: str, status: int, seconds: float, cache_header: str | None) -> None:
    """record() for a caller that has the values but no Django request or response (the WSGI fast path)."""
    requests, latency = _request_series(route, method, status)
    requests.inc()
    latency.observe(seconds)
    if cache_header:
        result = cache_header.strip().lower()
        _cache_series(route, result if result in CACHE_RESULTS else "other").inc()


@functools.lru_cache(maxsize=4096)
def _request_series(route: str, method: str, status: int) -> tuple:
    # labels() validates and locks on every call; routes, methods and statuses are few, so keep the children.
    return REQUESTS.labels(route, method, str(status)), LATENCY.labels(route, method, str(status))


@functools.lru_cache(maxsize=1024)
def _cache_series(route: str, result: str):
    return CACHE.labels(route, result)


class DependencyCollector:
    """Gauges computed at scrape time: is the database, is the cache answering, and how fast."""

    def collect(self):
        up = GaugeMetricFamily(
            "service_dependency_up", "1 if the dependency answered a probe during this scrape.", labels=["dependency"]
        )
        seconds = GaugeMetricFamily(
            "service_dependency_probe_seconds", "Time the dependency's probe took.", labels=["dependency"]
        )
        for name in probes.PROBES:
            healthy, elapsed = probes.probe(name)
            up.add_metric([name], 1.0 if healthy else 0.0)
            seconds.add_metric([name], round(elapsed, 6))
        yield up
        yield seconds


class _ProcessRegistry:
    """The default registry, for a process that keeps its values in memory."""

    def collect(self):
        return REGISTRY.collect()


def exposition() -> bytes:
    """Every metric of this replica (all its workers) in Prometheus' text format."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(DependencyCollector())
    return generate_latest(registry)


def scrape_allowed(request) -> bool:
    """Only clients in METRICS_ALLOWED_NETWORKS (loopback by default), seen through trusted proxies."""
    return in_networks(client_ip(request), settings.METRICS_ALLOWED_NETWORKS)


def metrics_response(request) -> HttpResponse:
    """GET /metrics: no token, no session, any Host header; refused outside the monitoring networks."""
    if request.method not in ("GET", "HEAD"):
        return error_response(405, "method_not_allowed", f'Method "{request.method}" not allowed.')
    if not scrape_allowed(request):
        logger.warning("Refused /metrics to %s", client_ip(request))
        return error_response(403, "permission_denied", "Metrics are served to the monitoring network only.")
    # The classic text format's content type: every Prometheus 2.x and 3.x parses it.
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)


class MetricsMiddleware:
    """Outermost middleware: answers /metrics itself (before host checks and auth); times every other request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == METRICS_PATH:
            return metrics_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        record(request, response, time.perf_counter() - started)
        return response
