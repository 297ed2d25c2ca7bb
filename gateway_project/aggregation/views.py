"""GET /api/<user_id>/<product_id>/: one user and one product in one answer.

A JSON client's aggregate is served on the event loop (gateway_project.application); this view serves the rest:
the browsable API, and requests that reached Django without the loop (the test client, runserver).
"""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from access import pages
from gateway_project.eventloop import run_sync
from svc_common.exceptions import MethodNotAllowed
from upstream.clients import call_deadline
from upstream.headers import django_request_headers

from .exceptions import InvalidIdentifier
from .services import user_product_fetch

MAX_ID = 2**63 - 1


def _parse_id(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise InvalidIdentifier(f"{name} must be a positive integer, got {value[:40]!r}.")
    return int(value)


@csrf_exempt  # token-authenticated, and read-only: a write is a 405, not a CSRF failure
def user_product(request, user_id: str, product_id: str):
    """Aggregate a user and a product fetched from their services."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    ids = (_parse_id(user_id, "user_id"), _parse_id(product_id, "product_id"))
    headers = django_request_headers(request)
    fill = getattr(request, "page_fill", None)
    fetch = user_product_fetch(user_id=ids[0], product_id=ids[1], headers=headers, parts=fill.parts if fill else ())
    body, timings, parts = run_sync(fetch, timeout=call_deadline())
    run_sync(pages.store_all(parts))
    request.upstream_timings = timings
    return HttpResponse(body, content_type="application/json")
