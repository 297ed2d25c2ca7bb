"""/api/users/… and /api/products/…: every method passed through to the service.

A JSON read of a known route is served on the event loop (gateway_project.application); these views serve the
rest: writes, the browsable API (ProxyView, for a request asking for HTML), and requests that reached Django
without the loop (the test client, runserver).
"""

from drf_spectacular.utils import extend_schema

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from access.request import raw_path
from browsable.views import UpstreamView, parsed
from gateway_project.eventloop import run_sync
from svc_common.exceptions import MethodNotAllowed
from upstream.clients import call_deadline
from upstream.headers import django_request_headers, returned_headers
from upstream.http import Response

from .paths import upstream_path
from .services import forwarded_query, proxy_forward

ALLOWED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
# A browser's cache validators name the HTML page it holds, not the service's JSON: they stay at the gateway.
VALIDATORS = ("If-None-Match", "If-Modified-Since")


def forward(request, service: str, rest: str | None = None, *, conditional: bool = True) -> Response:
    """Send the request to the service (proxy.services.proxy_forward) and return its answer."""
    if request.method not in ALLOWED_METHODS:
        raise MethodNotAllowed(request.method, ALLOWED_METHODS)
    headers = django_request_headers(request)
    if not conditional:
        for name in VALIDATORS:
            headers.pop(name, None)
    exchange = proxy_forward(
        service=service,
        method=request.method,
        path=upstream_path(service, (rest or "").removeprefix("/"), raw_path(request)),
        query=forwarded_query(request.path_info, request.method, request.META.get("QUERY_STRING", "")),
        headers=headers,
        content=None if request.method in BODYLESS_METHODS else request.body,
    )
    upstream, request.upstream_timings = run_sync(exchange, timeout=call_deadline())
    return upstream


@csrf_exempt
def proxy(request, service: str, rest: str | None = None):
    """Forward the request to the service and return its answer as-is (minus hop-by-hop headers)."""
    upstream = forward(request, service, rest)
    response = HttpResponse(upstream.body, status=upstream.status)
    del response["Content-Type"]
    for name, value in returned_headers(upstream.headers):
        response[name] = value
    return response


@extend_schema(exclude=True)  # the contract has the services' own operations here (apidocs.build)
class ProxyView(UpstreamView):
    """/api/users/… and /api/products/…: JSON clients get the service's answer as-is, people the browsable API."""

    def answer_json(self, request, *args, **kwargs):
        return proxy(request, *args, **kwargs)

    def fetch(self, request, service: str, rest: str | None = None):
        upstream = forward(request, service, rest, conditional=False)
        return upstream.status, returned_headers(upstream.headers), parsed(upstream.body, upstream.headers)
