"""/api/users/… and /api/products/…: every method passed through to the service."""

import time

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from access.request import raw_path
from access.routes import canonical_query, match
from gateway_project.eventloop import run_sync
from svc_common.exceptions import MethodNotAllowed
from upstream.clients import call, call_deadline
from upstream.headers import returned_headers, upstream_request_headers

from .paths import upstream_path

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


@csrf_exempt
def proxy(request, service: str, rest: str | None = None):
    """Forward the request to the service and return its answer as-is (minus hop-by-hop headers).

    A HEAD is forwarded as the GET it describes, so the page cache only ever sees whole answers; the server
    leaves the body out. A route the gateway's contract knows gets its canonical query: only its own
    parameters, sorted, as in the page cache's key.
    """
    if request.method not in ALLOWED_METHODS:
        raise MethodNotAllowed(request.method, ALLOWED_METHODS)
    path = upstream_path(service, (rest or "").removeprefix("/"), raw_path(request))
    query = request.META.get("QUERY_STRING", "")
    route = match(request.path_info)
    if route is not None and request.method in ("GET", "HEAD"):
        query = canonical_query(route.template, query)
    headers = upstream_request_headers(
        request.META,
        request_id=request.request_id,
        client_id=getattr(request, "client_id", None),
        host=request.get_host(),
        scheme=request.scheme,
    )
    started = time.perf_counter()
    exchange = call(
        service,
        "GET" if request.method == "HEAD" else request.method,
        path + (f"?{query}" if query else ""),
        headers=headers,
        content=None if request.method in BODYLESS_METHODS else request.body,
    )
    upstream = run_sync(exchange, timeout=call_deadline())
    request.upstream_timings = {service: round((time.perf_counter() - started) * 1000, 2)}
    response = HttpResponse(upstream.body, status=upstream.status)
    del response["Content-Type"]
    for name, value in returned_headers(upstream.headers):
        response[name] = value
    return response
