"""Prometheus metrics of the gateway's upstream calls: latency and errors, by service."""

import time

from prometheus_client import Counter, Histogram

LATENCY = Histogram(
    "gateway_upstream_request_duration_seconds",
    "Time of one upstream call (including a replayed one), by service.",
    ["service"],
)
ERRORS = Counter(
    "gateway_upstream_errors_total",
    "Upstream calls that failed, by service and reason (upstream_timeout, upstream_unavailable, http_5xx).",
    ["service", "reason"],
)

REPLAYS = Counter(
    "gateway_upstream_replays_total",
    "Upstream calls sent a second time, by service and reason (stale_connection, answer_cut_short).",
    ["service", "reason"],
)


def observe(service: str, started: float, *, status_code: int | None = None, error_code: str | None = None) -> None:
    """Record one call that began at `started` (perf_counter): an answer's status, or a transport error's code."""
    LATENCY.labels(service).observe(time.perf_counter() - started)
    if error_code is not None:
        ERRORS.labels(service, error_code).inc()
    elif status_code is not None and status_code >= 500:
        ERRORS.labels(service, "http_5xx").inc()
