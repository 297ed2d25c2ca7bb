"""/api/users/… and /api/products/…: every method passed through to the service.

A JSON read of a known route is served on the event loop (gateway_project.application); this view serves the rest:
writes, the browsable API, and requests that reached Django without the loop (the test client, runserver).
"""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from access.request import raw_path
from gateway_project.eventloop import run_sync
from svc_common.exceptions import MethodNotAllowed
from upstream.clients import call_deadline
from upstream.headers import django_request_headers, returned_headers

from .paths import upstream_path
from .services import forwarded_query, proxy_forward

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


@csrf_exempt
def proxy(request, service: str, rest: str | None = None):
    """Forward the request to the service and return its answer as-is (minus hop-by-hop headers)."""
    if request.method not in ALLOWED_METHODS:
        raise MethodNotAllowed(request.method, ALLOWED_METHODS)
    headers = django_request_headers(request)
    forward = proxy_forward(
        service=service,
        method=request.method,
        path=upstream_path(service, (rest or "").removeprefix("/"), raw_path(request)),
        query=forwarded_query(request.path_info, request.method, request.META.get("QUERY_STRING", "")),
        headers=headers,
        content=None if request.method in BODYLESS_METHODS else request.body,
    )
    upstream, request.upstream_timings = run_sync(forward, timeout=call_deadline())
    response = HttpResponse(upstream.body, status=upstream.status)
    del response["Content-Type"]
    for name, value in returned_headers(upstream.headers):
        response[name] = value
    return response
