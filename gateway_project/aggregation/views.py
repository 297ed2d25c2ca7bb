"""GET /api/<user_id>/<product_id>/: one user and one product in one answer.

A JSON client's aggregate is served on the event loop (gateway_project.application); these views serve the rest:
the browsable API (UserProductView, for a request asking for HTML), and JSON requests that reached Django
without the loop (the test client, runserver).
"""

import json

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from access import pages
from browsable.views import UpstreamView
from gateway_project.eventloop import run_sync
from svc_common.exceptions import MethodNotAllowed
from svc_common.openapi import MAX_ID as DOCUMENTED_MAX_ID
from svc_common.openapi import ErrorSerializer
from upstream.clients import call_deadline
from upstream.headers import django_request_headers

from .exceptions import InvalidIdentifier
from .services import user_product_fetch

MAX_ID = 2**63 - 1
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": DOCUMENTED_MAX_ID}


def _parse_id(value: str, name: str) -> int:
    if not value.isascii() or not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise InvalidIdentifier(f"{name} must be a positive integer, got {value[:40]!r}.")
    return int(value)


def aggregate(request, user_id: str, product_id: str) -> bytes:
    """The aggregate's JSON body, from both services (errors raised as APIExceptions)."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    ids = (_parse_id(user_id, "user_id"), _parse_id(product_id, "product_id"))
    headers = django_request_headers(request)
    fill = getattr(request, "page_fill", None)
    fetch = user_product_fetch(user_id=ids[0], product_id=ids[1], headers=headers, parts=fill.parts if fill else ())
    body, timings, parts = run_sync(fetch, timeout=call_deadline())
    run_sync(pages.store_all(parts))
    request.upstream_timings = timings
    return body


@csrf_exempt  # token-authenticated, and read-only: a write is a 405, not a CSRF failure
def user_product(request, user_id: str, product_id: str):
    """Aggregate a user and a product fetched from their services."""
    return HttpResponse(aggregate(request, user_id, product_id), content_type="application/json")


class UserProductView(UpstreamView):
    """One user and one product, fetched from their services at once."""

    http_method_names = ["get", "head"]

    def answer_json(self, request, *args, **kwargs):
        return user_product(request, *args, **kwargs)

    def fetch(self, request, user_id: str, product_id: str):
        return 200, [], json.loads(aggregate(request, user_id, product_id))

    @extend_schema(
        operation_id="user_product_retrieve",
        summary="Get one user and one product",
        tags=["aggregation"],
        parameters=[
            OpenApiParameter("user_id", ID_SCHEMA, OpenApiParameter.PATH),
            OpenApiParameter("product_id", ID_SCHEMA, OpenApiParameter.PATH),
        ],
        responses={
            200: OpenApiResponse({"$ref": "#/components/schemas/UserProduct"}, description="Both parts."),
            400: OpenApiResponse(ErrorSerializer, description='An id is not a positive integer (code "invalid_id").'),
            404: OpenApiResponse(
                ErrorSerializer,
                description='The user, the product or both do not exist; `detail` names the missing ids, e.g. {"user_id": 7}.',
            ),
        },
    )
    def get(self, request, *args, **kwargs):
        return self.respond(request, *args, **kwargs)
