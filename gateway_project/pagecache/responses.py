"""Responses of cacheable pages: ETag, Cache-Control, Vary, X-Cache and 304 for a matching If-None-Match."""

from django.http import HttpResponse, HttpResponseNotModified

# Authenticated answers: browsers may keep them but must revalidate (ETag → 304); shared caches must not.
CACHE_CONTROL = "private, no-cache"
VARY = "Authorization, Accept-Language"


def if_none_match_matches(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    if not header:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in header.split(",")}
    return "*" in candidates or etag in candidates


def page_response(request, *, etag: str, content_type: str, body: bytes, cache_state: str) -> HttpResponse:
    """The answer for a cacheable page, whether it came from Redis or from the services."""
    if if_none_match_matches(request, etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
    decorate(response, etag=etag, cache_state=cache_state)
    return response


def decorate(response, *, etag: str | None, cache_state: str) -> None:
    if etag:
        response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = VARY
    response["X-Cache"] = cache_state
