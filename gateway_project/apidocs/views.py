"""GET /schema/: the gateway's OpenAPI document, public (outside /api/, so no token is needed)."""

from functools import cache
from pathlib import Path

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from svc_common.exceptions import MethodNotAllowed

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.yaml")
CONTENT_TYPE = "application/vnd.oai.openapi; charset=utf-8"


@cache
def _document() -> bytes:
    return OPENAPI_DOCUMENT.read_bytes()


@csrf_exempt  # public and read-only: a write is a 405, not a CSRF failure
def schema(request):
    """The hand-written OpenAPI 3 document of every /api/ route, as YAML."""
    if request.method not in ("GET", "HEAD"):
        raise MethodNotAllowed(request.method, ("GET", "HEAD"))
    return HttpResponse(_document(), content_type=CONTENT_TYPE)
