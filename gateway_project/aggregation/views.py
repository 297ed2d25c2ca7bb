"""GET /api/<user_id>/<product_id>/: one user and one product in one answer."""

from django.http import JsonResponse

from svc_common.exceptions import MethodNotAllowed
from upstream.headers import upstream_request_headers

from .exceptions import InvalidIdentifier
from .services import user_product_fetch

MAX_ID = 2**63 - 1


def _parse_id(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise InvalidIdentifier(f"{name} must be a positive integer, got {value[:40]!r}.")
    return int(value)


def user_product(request, user_id: str, product_id: str):
    """Aggregate a user and a product fetched from their services."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    ids = (_parse_id(user_id, "user_id"), _parse_id(product_id, "product_id"))
    body, timings = user_product_fetch(user_id=ids[0], product_id=ids[1], headers=upstream_request_headers(request))
    request.upstream_timings = timings
    return JsonResponse(body)
