"""The API described: the front door at /, the OpenAPI contract at /schema/, Swagger UI and ReDoc under /api/."""

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer, TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from browsable.authentication import AccessAuthentication
from svc_common.exceptions import MethodNotAllowed

from . import contract

CONTENT_TYPE = "application/vnd.oai.openapi; charset=utf-8"
# What the front door links to, by URL name: the JSON index names them as the HTML page shows them.
LINKS = {
    "api": "api-root",
    "docs": "api-docs",
    "redoc": "api-redoc",
    "schema": "schema",
    "login": "rest_framework:login",
    "tokens": "tokens",
    "status": "status",
}


@csrf_exempt  # public and read-only: a write is a 405, not a CSRF failure
def schema(request):
    """The gateway's OpenAPI 3 contract (generated: apidocs.build), as YAML; public (outside /api/'s access step)."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    return HttpResponse(contract.document_bytes(), content_type=CONTENT_TYPE)


@extend_schema(exclude=True)
class FrontDoor(APIView):
    """GET /: for a browser, a page saying what the API is and where to start; for a JSON client, the same links."""

    renderer_classes = [JSONRenderer, TemplateHTMLRenderer]
    authentication_classes = [AccessAuthentication]
    permission_classes = [AllowAny]
    template_name = "apidocs/front_door.html"

    def get(self, request):
        info = contract.document()["info"]
        links = {name: request.build_absolute_uri(reverse(url_name)) for name, url_name in LINKS.items()}
        return Response({"name": info["title"], "version": info["version"], "links": links})


class SwaggerUI(SpectacularSwaggerView):
    """Swagger UI over the contract: "Try it out" with a token (Authorize) or the logged-in session (whose writes
    carry the page's CSRF token: drf-spectacular's request interceptor adds it)."""

    authentication_classes = [AccessAuthentication]
    template_name = "apidocs/swagger_ui.html"
    url_name = "schema"
    title = "API gateway – Swagger UI"


class ReDoc(SpectacularRedocView):
    """ReDoc over the contract, with no web fonts from a CDN."""

    authentication_classes = []
    template_name = "apidocs/redoc.html"
    url_name = "schema"
    title = "API gateway – ReDoc"
