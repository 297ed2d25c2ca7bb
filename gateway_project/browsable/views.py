"""DRF's browsable API over what the services answered, for people (and anyone who asks for HTML).

A JSON client never meets this code: a view's dispatch hands it to the plain pass-through (proxy.views.proxy,
aggregation.views.user_product), whose answers the page cache may keep. A request whose Accept names
text/html (access.pages.accepts_json, the page cache's own test, so a rendered page is never stored nor
served from the cache) goes through DRF: the services are called as for JSON, through HAProxy, and their
JSON answer, errors included, is rendered by the browsable API with the methods, filters and write bodies
the gateway's contract states. Authentication, rate limits and the CSRF check of a session's writes have
already happened, in the access step.
"""

import json

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.utils.formatting import markup_description
from rest_framework.views import APIView

from access.answers import CACHE_CONTROL
from access.pages import accepts_json
from access.routes import match
from apidocs import contract
from svc_common.parsers import JSONParser

from .authentication import AccessAuthentication
from .filters import FieldFilters, OrderingFilter, SearchFilter
from .pagination import UpstreamPageLinks
from .renderers import GatewayBrowsableAPIRenderer, page_name
from .serializers import serializer_for

# What describes the service's JSON, not the page rendered from it.
REPRESENTATION_HEADERS = frozenset({"content-type", "content-length", "etag", "last-modified", "vary", "allow"})


class GatewayPage(APIView):
    """A page of the gateway's browsable API: its renderers, and the person the access step admitted."""

    renderer_classes = [JSONRenderer, GatewayBrowsableAPIRenderer]  # JSON for */* and no Accept, as DRF does
    parser_classes = [JSONParser]
    authentication_classes = [AccessAuthentication]
    permission_classes = [AllowAny]

    def get_view_name(self) -> str:
        request = getattr(self, "request", None)
        return page_name(request.path) if request is not None else super().get_view_name()


class UpstreamView(GatewayPage):
    """A route whose answer comes from the services: JSON passed through, HTML rendered from the same answer."""

    filter_backends = [FieldFilters, SearchFilter, OrderingFilter]
    upstream_data = None

    def dispatch(self, request, *args, **kwargs):
        if accepts_json(request.META.get("HTTP_ACCEPT", "")):
            return self.answer_json(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def answer_json(self, request, *args, **kwargs):
        """The plain pass-through of the route (a Django view)."""
        raise NotImplementedError

    def fetch(self, request, *args, **kwargs) -> tuple[int, list[tuple[str, str]], object]:
        """(status, headers, parsed JSON body or None) of the services' answer."""
        raise NotImplementedError

    def respond(self, request, *args, **kwargs):
        if request.accepted_renderer.format != GatewayBrowsableAPIRenderer.format:  # ?format=json
            return self.answer_json(request._request, *args, **kwargs)
        status, headers, self.upstream_data = self.fetch(request._request, *args, **kwargs)
        kept = {name: value for name, value in headers if name.lower() not in REPRESENTATION_HEADERS}
        return Response(self.upstream_data, status=status, headers={**kept, "Cache-Control": CACHE_CONTROL})

    get = post = put = patch = delete = options = respond

    @property
    def template(self) -> str | None:
        """The route's path in the contract, e.g. "/api/products/{id}/"."""
        request = getattr(self, "request", None)  # None when a schema generator asks the class
        route = match(request.path_info) if request is not None else None
        return route.template if route is not None else None

    @property
    def allowed_methods(self) -> list[str]:
        """The contract's methods for the route (what the browsable API offers forms for)."""
        declared = [*contract.operations(self.template), "OPTIONS"] if self.template else []
        return [method for method in declared if method.lower() in self.http_method_names] or super().allowed_methods

    def get_view_description(self, html=False) -> str:
        operation = contract.operations(self.template).get("GET", {}) if self.template else {}
        description = operation.get("description") or operation.get("summary", "")
        return markup_description(description) if html else description

    # What DRF's browsable API asks of a list view: its paginator, queryset and filter backends.
    @property
    def paginator(self) -> UpstreamPageLinks:
        return UpstreamPageLinks(self.upstream_data)

    def get_queryset(self):
        return None  # the service filters; the backends only draw the forms

    def query_parameters(self) -> tuple[dict, ...]:
        return contract.query_parameters(self.template) if self.template else ()

    def get_serializer(self, instance=None, **kwargs):
        """A serializer for the raw-data form of the method being drawn: blank to create, the current object's
        fields to change it."""
        schema = contract.request_schema(self.template, self.request.method) if self.template else None
        serializer_class = serializer_for(f"{self.request.method.title()}Body", json.dumps(schema or {}))
        if instance is None and self.request.method in ("PUT", "PATCH") and is_object(self.upstream_data):
            instance = self.upstream_data
        return serializer_class(instance, **kwargs)


def is_object(data) -> bool:
    """A service's object, as opposed to a page of them or an error."""
    return isinstance(data, dict) and "results" not in data and "error" not in data


def parsed(body: bytes, headers: list[tuple[str, str]]):
    """A JSON answer's body as data; None for an empty one. Anything else is shown as text."""
    if not body:
        return None
    content_type = next((value for name, value in headers if name.lower() == "content-type"), "")
    if content_type.startswith("application/json"):
        return json.loads(body)
    return body.decode("utf-8", "replace")


class ApiRoot(GatewayPage):
    """The gateway's API: users and products passed through to their services, one user and one product in
    one answer, and tokens. Open to anyone; every route below it needs a token or a logged-in session."""

    @extend_schema(exclude=True)  # a page for finding one's way, like the docs: not an operation of the contract
    def get(self, request):
        return Response(
            {
                "users": request.build_absolute_uri("/api/users/"),
                "products": request.build_absolute_uri("/api/products/"),
                "user_product": request.build_absolute_uri("/api/") + "{user_id}/{product_id}/",
                "auth_token": request.build_absolute_uri("/api/auth/token/"),
            }
        )


class Refused(BasePermission):
    """Nothing is permitted on a refusal's page: DRF draws no form there."""

    def has_permission(self, request, view) -> bool:
        return False


class RefusalPage(GatewayPage):
    """The access step's refusal (401, 403, 429) drawn in the browsable API, with its login link and no forms."""

    permission_classes = [Refused]

    def permission_denied(self, request, message=None, code=None):
        raise self.kwargs["refusal"]


def refusal_page(request, exc):
    """The page a person gets instead of the JSON error: same status, headers and error body."""
    response = RefusalPage.as_view()(request, refusal=exc)
    return response.render()
