"""Token authentication, rate limiting and the page-cache lookup for every /api/ route, in one Redis
round trip on the hot path."""

import math
import time

from django.conf import settings

from pagecache.keys import PageSpec, spec_for
from pagecache.responses import decorate, if_none_match_matches, page_response
from pagecache.store import etag_for, page_release, page_store, page_wait
from ratelimit import limiter
from ratelimit.limiter import Decision
from svc_common.client_ip import client_ip
from svc_common.errors import api_exception_response

from .exceptions import AuthenticationFailed, NotAuthenticated, RateLimited, RateLimiterUnavailable, TokenExpired
from .services import token_authenticate
from .tokens import is_well_formed, token_hash

TOKEN_PATH = "/api/auth/token/"  # noqa: S105 (a route, not a secret)
# Where the WSGI fast path (pagecache.fastpath) leaves the access script's decision for this middleware.
DECISION_KEY = "gateway.access_decision"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def route_group(request) -> str:
    """Which configured limit applies: token creation, reads or writes."""
    if request.path_info.rstrip("/") == TOKEN_PATH.rstrip("/") and request.method == "POST":
        return "auth"
    return "read" if request.method in SAFE_METHODS else "write"


def presented_key(request) -> str:
    """The key from `Authorization: Token <key>`; 401 when missing or malformed."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        raise NotAuthenticated()
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "token" or not is_well_formed(key.strip()):
        raise AuthenticationFailed("Invalid token header.")
    return key.strip()


class AccessMiddleware:
    """Authenticate the token, meter the request, serve or fill the page cache, stamp the headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        group = route_group(request)
        spec = spec_for(request) if group != "auth" else None
        started = time.perf_counter()
        try:
            decision = self._admit(request, group, spec)
        except (NotAuthenticated, RateLimited) as exc:
            response = api_exception_response(exc)
            if getattr(exc, "decision", None) is not None:
                add_rate_limit_headers(response, group, exc.decision)
            return response
        request.cache_timing_ms = round((time.perf_counter() - started) * 1000, 2)
        response = self._respond(request, spec, decision.page)
        add_rate_limit_headers(response, group, decision)
        return response

    def _respond(self, request, spec: PageSpec | None, page: tuple):
        """Serve a cached page, or call the view and cache its answer (one request fills, others wait)."""
        if spec is None or not page:
            return self.get_response(request)
        if page[0] == "hit":
            return page_response(request, etag=page[1], content_type=page[2], body=page[3], cache_state="HIT")
        state, generations, freshness = page
        if state == "wait":
            waited = page_wait(spec=spec, generations=generations)
            if waited is not None:
                etag, content_type, body = waited
                return page_response(request, etag=etag, content_type=content_type, body=body, cache_state="HIT")
        response = self.get_response(request)
        if not is_cacheable(response):
            if state == "fill":
                page_release(spec=spec)
            return response
        etag = etag_for(response.content)
        page_store(
            spec=spec,
            generations=generations,
            etag=etag,
            content_type=response["Content-Type"],
            body=response.content,
            owner=state == "fill",
        )
        if if_none_match_matches(request, etag):
            return page_response(request, etag=etag, content_type="", body=b"", cache_state=freshness.upper())
        decorate(response, etag=etag, cache_state=freshness.upper())
        return response

    def _admit(self, request, group: str, spec: PageSpec | None) -> Decision:
        ip = client_ip(request)
        key = None if group == "auth" else presented_key(request)
        key_hash = token_hash(key) if key else None
        # The WSGI fast path may have run the access script already: never meter a request twice.
        decision = request.META.pop(DECISION_KEY, None) or limiter.check(
            group=group, key_hash=key_hash, client_ip=ip, page=spec
        )
        if decision.verdict == "miss":
            decision = self._authenticate_from_database(key, group, key_hash, ip, spec)
        if decision.verdict == "expired":
            raise TokenExpired()
        if decision.verdict == "unavailable":
            decision = self._without_redis(key, decision)
        if decision.verdict == "limited":
            raise RateLimited(decision.retry_after_ms / 1000, decision=decision)
        request.client_id = decision.client_id
        request.token_hash = key_hash
        return decision

    @staticmethod
    def _authenticate_from_database(key: str, group: str, key_hash: str, ip: str, spec: PageSpec | None) -> Decision:
        token = token_authenticate(key=key)
        if token is None:
            # Meter failed attempts per address, so guessing tokens is throttled like guessing passwords.
            if limiter.check(group="auth", key_hash=None, client_ip=ip).verdict == "limited":
                raise RateLimited(60, "Too many failed authentication attempts.")
            raise AuthenticationFailed()
        decision = limiter.check(group=group, key_hash=key_hash, client_ip=ip, page=spec)
        if decision.verdict == "miss":  # the record could not be cached: Redis answers scripts only
            return Decision("unavailable", token.client_id)
        return decision

    @staticmethod
    def _without_redis(key: str | None, decision: Decision) -> Decision:
        """Redis is unreachable: authenticate from the database; then fail open or closed, per setting."""
        client_id = decision.client_id
        if key is not None and client_id is None:
            token = token_authenticate(key=key)
            if token is None:
                raise AuthenticationFailed()
            client_id = token.client_id
        if not settings.RATE_LIMIT_FAIL_OPEN:
            raise RateLimiterUnavailable(1)
        return Decision("unmetered", client_id)


def is_cacheable(response) -> bool:
    """A 200 JSON answer that no upstream marked private or uncacheable."""
    cache_control = response.get("Cache-Control", "")
    return (
        response.status_code == 200
        and response.get("Content-Type", "").startswith("application/json")
        and "private" not in cache_control
        and "no-store" not in cache_control
        and not response.has_header("Set-Cookie")
    )


def add_rate_limit_headers(response, group: str, decision: Decision) -> None:
    for name, value in rate_limit_headers(group, decision):
        response[name] = value


def rate_limit_headers(group: str, decision: Decision) -> list[tuple[str, str]]:
    """IETF draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy and RateLimit."""
    if decision.verdict not in ("ok", "limited") or decision.unlimited:
        return []
    window = decision.period_ms // 1000
    return [
        ("RateLimit-Policy", f'"{group}";q={decision.limit};w={window}'),
        ("RateLimit", f'"{group}";r={decision.remaining};t={math.ceil(decision.reset_ms / 1000)}'),
    ]
