"""/api/users/… and /api/products/…: every method passed through to the service."""

import time

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from svc_common.exceptions import MethodNotAllowed
from upstream.clients import call
from upstream.headers import returned_headers, upstream_request_headers

from .paths import upstream_path

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@csrf_exempt
def proxy(request, service: str, rest: str | None = None):
    """Forward the request to the service and return its answer as-is (minus hop-by-hop headers)."""
    if request.method not in ALLOWED_METHODS:
        raise MethodNotAllowed(request.method, ALLOWED_METHODS)
    path = upstream_path(service, (rest or "").removeprefix("/"), request.META.get("RAW_URI", request.get_full_path()))
    query = request.META.get("QUERY_STRING", "")
    started = time.perf_counter()
    upstream = call(
        service,
        request.method,
        path + (f"?{query}" if query else ""),
        headers=upstream_request_headers(request),
        content=request.body if request.method not in ("GET", "HEAD", "DELETE", "OPTIONS") else None,
    )
    request.upstream_timings = {service: round((time.perf_counter() - started) * 1000, 2)}
    response = HttpResponse(upstream.content, status=upstream.status_code)
    for name, value in returned_headers(upstream.headers):
        response[name] = value
    return response
