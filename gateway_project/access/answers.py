"""How the gateway answers from the access step: a page (a hit, or a page fetched on the event loop) and an error,
built once here for every path, and the headers Django's outer middleware adds to them.

Both ways a request is served call these builders: Django's AccessMiddleware turns an Answer into an
HttpResponse, which Django's middleware then decorates as any response; the event loop (gateway_project.application)
sends it itself, adding what that middleware would add. That part is not a copied list: outer_headers() runs
Django's SecurityMiddleware, XFrameOptionsMiddleware and django-cors-headers' CorsMiddleware, as configured in
MIDDLEWARE, over a response with the answer's header names, once per kind of request, and keeps what they add.
"""

import functools
import json
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils.module_loading import import_string

from svc_common.errors import describe, error_body, response_headers

from .decision import RateState
from .pages import CachedPage
from .request import MetaRequest

# Authenticated answers: browsers may keep them but must revalidate (ETag → 304); shared caches must not.
CACHE_CONTROL = "private, no-cache"
VARY = "Authorization, Accept-Language"
JSON = "application/json"
# Django middleware whose response headers the event loop adds to its own answers (the Django path runs them).
HEADER_MIDDLEWARE = frozenset(
    {
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "corsheaders.middleware.CorsMiddleware",
    }
)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def to_response(self) -> HttpResponse:
        """The answer as a Django response (the Django path)."""
        response = HttpResponse(self.body, status=self.status)
        del response["Content-Type"]  # a 304 has none; a page names its own
        for name, value in self.headers:
            response[name] = value
        return response


def if_none_match_matches(header: str, etag: str) -> bool:
    if not header:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in header.split(",")}
    return "*" in candidates or etag in candidates


def page_answer(request, page: CachedPage, *, cache_state: str, rate: RateState | None) -> Answer:
    """A page of the cache (a hit, or just fetched): 200 with its body, or 304 when If-None-Match names its ETag."""
    if if_none_match_matches(request.header("HTTP_IF_NONE_MATCH"), page.etag):
        status, body, headers = 304, b"", []
    else:
        status, body = 200, page.body
        headers = [("Content-Type", page.content_type), ("Content-Length", str(len(body))), *page.headers]
    headers += page_headers(page.etag, cache_state)
    headers += rate_limit_headers(rate)
    return Answer(status, headers, body)


def page_headers(etag: str, cache_state: str) -> list[tuple[str, str]]:
    return [("ETag", etag), ("Cache-Control", CACHE_CONTROL), ("Vary", VARY), ("X-Cache", cache_state)]


def passed_answer(status: int, headers: list[tuple[str, str]], body: bytes, *, rate: RateState | None) -> Answer:
    """An upstream's answer passed on as it came, where the page cache keeps nothing (not cacheable, or off)."""
    return Answer(status, [*headers, ("Content-Length", str(len(body))), *rate_limit_headers(rate)], body)


def error_answer(exc, *, rate: RateState | None = None) -> Answer:
    """An APIException in the one error shape, with the headers it requires (WWW-Authenticate, Retry-After...)."""
    body = json.dumps(error_body(*describe(exc)), cls=DjangoJSONEncoder).encode()
    headers = [("Content-Type", JSON), ("Content-Length", str(len(body))), *response_headers(exc).items()]
    return Answer(exc.status_code, headers + rate_limit_headers(rate), body)


def server_error_answer() -> Answer:
    """An unexpected error: the generic 500 in the error shape; the details stay in the log."""
    body = json.dumps(error_body("server_error", "An internal error occurred.")).encode()
    return Answer(500, [("Content-Type", JSON), ("Content-Length", str(len(body)))], body)


def rate_limit_headers(rate: RateState | None) -> list[tuple[str, str]]:
    """IETF draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy and RateLimit."""
    if rate is None or rate.unlimited:
        return []
    return [
        ("RateLimit-Policy", f'"{rate.group}";q={rate.limit};w={rate.period_ms // 1000}'),
        ("RateLimit", f'"{rate.group}";r={rate.remaining};t={math.ceil(rate.reset_ms / 1000)}'),
    ]


def outer_headers(request, sample_path: str, answer: Answer) -> list[tuple[str, str]] | None:
    """The headers Django's outer middleware would add to this answer (a changed Vary replaces the answer's);
    None when that middleware would answer by itself instead (e.g. a redirect to HTTPS): Django must serve it."""
    names = frozenset(name.lower() for name, _ in answer.headers)
    vary = next((value for name, value in answer.headers if name.lower() == "vary"), None)
    return _outer_headers(
        _header_middleware(),
        request.scheme == "https",
        request.header("HTTP_ORIGIN") or None,
        request.method,
        sample_path,
        names,
        vary,
    )


@functools.cache
def _header_middleware() -> tuple[str, ...]:
    return tuple(path for path in settings.MIDDLEWARE if path in HEADER_MIDDLEWARE)


@functools.lru_cache(maxsize=1024)
def _outer_headers(middleware: tuple, secure: bool, origin, method: str, path: str, names: frozenset, vary):
    meta = {"wsgi.url_scheme": "https" if secure else "http"}
    if origin is not None:
        meta["HTTP_ORIGIN"] = origin
    request = MetaRequest(meta, path, method)
    response = HttpResponse()
    del response["Content-Type"]
    for name in names:
        response[name] = vary if name == "vary" else "-"

    def handler(_request):
        return response

    for middleware_path in reversed(middleware):  # composed as Django composes MIDDLEWARE
        handler = import_string(middleware_path)(handler)
    if handler(request) is not response:
        return None
    added = [(name, value) for name, value in response.items() if name.lower() not in names]
    if vary is not None and response["Vary"] != vary:
        added.append(("Vary", response["Vary"]))
    return added


def forget_outer_headers(**kwargs) -> None:
    """Settings changed (tests): the middleware may now add other headers."""
    _header_middleware.cache_clear()
    _outer_headers.cache_clear()
