"""Server-Timing (W3C): where a response's time went, per upstream, in the cache, and in total."""

import re
import time

HEADER = "Server-Timing"
_TOKEN = re.compile(r"[^A-Za-z0-9!#$%&'*+.^_`|~-]")


def _metric(name: str, duration_ms: float | None = None, description: str | None = None) -> str:
    parts = [_TOKEN.sub("_", name)]
    if duration_ms is not None:
        parts.append(f"dur={float(duration_ms):.1f}")
    if description:
        parts.append(f"desc={_TOKEN.sub('_', description)}")
    return ";".join(parts)


def server_timing(request, response, total_ms: float) -> str:
    """`users;dur=12.3, products;dur=9.8, cache;dur=0.4;desc=HIT, total;dur=25.0`, from what the views recorded.

    Views set request.upstream_timings ({service: ms}); the cache sets request.cache_timing_ms and X-Cache.
    """
    return timing_header(
        getattr(request, "upstream_timings", None),
        getattr(request, "cache_timing_ms", None),
        response.get("X-Cache"),
        total_ms,
    )


def timing_header(upstream: dict | None, cache_ms: float | None, cache_result: str | None, total_ms: float) -> str:
    """server_timing() from the values themselves (the WSGI fast path has no Django request)."""
    metrics = [_metric(service, ms) for service, ms in (upstream or {}).items()]
    if cache_ms is not None or cache_result:
        metrics.append(_metric("cache", cache_ms, cache_result))
    metrics.append(_metric("total", total_ms))
    return ", ".join(metrics)


class ServerTimingMiddleware:
    """Adds Server-Timing to every response; place it outside any middleware that can answer from the cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response[HEADER] = server_timing(request, response, (time.perf_counter() - started) * 1000)
        return response
