"""Token authentication and rate limiting for every /api/ route, in one Redis round trip on the hot path."""

import math

from django.conf import settings
from ratelimit import limiter
from ratelimit.limiter import Decision
from svc_common.errors import api_exception_response
from svc_common.middleware import client_ip

from .exceptions import AuthenticationFailed, NotAuthenticated, RateLimited, RateLimiterUnavailable, TokenExpired
from .services import token_authenticate
from .tokens import is_well_formed, token_hash

TOKEN_PATH = "/api/auth/token/"
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
    """Authenticate the token, meter the request, and stamp the RateLimit headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith("/api/"):
            return self.get_response(request)
        try:
            decision = self._admit(request)
        except (NotAuthenticated, RateLimited) as exc:
            response = api_exception_response(exc)
            if getattr(exc, "decision", None) is not None:
                add_rate_limit_headers(response, route_group(request), exc.decision)
            return response
        response = self.get_response(request)
        add_rate_limit_headers(response, route_group(request), decision)
        return response

    def _admit(self, request) -> Decision:
        group = route_group(request)
        ip = client_ip(request)
        key = None if group == "auth" else presented_key(request)
        key_hash = token_hash(key) if key else None
        decision = limiter.check(group=group, key_hash=key_hash, client_ip=ip)
        if decision.verdict == "miss":
            decision = self._authenticate_from_database(key, group, key_hash, ip)
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
    def _authenticate_from_database(key: str, group: str, key_hash: str, ip: str) -> Decision:
        token = token_authenticate(key=key)
        if token is None:
            # Meter failed attempts per address, so guessing tokens is throttled like guessing passwords.
            if limiter.check(group="auth", key_hash=None, client_ip=ip).verdict == "limited":
                raise RateLimited(60, "Too many failed authentication attempts.")
            raise AuthenticationFailed()
        decision = limiter.check(group=group, key_hash=key_hash, client_ip=ip)
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


def add_rate_limit_headers(response, group: str, decision: Decision) -> None:
    """IETF draft-ietf-httpapi-ratelimit-headers: RateLimit-Policy and RateLimit."""
    if decision.verdict not in ("ok", "limited") or decision.unlimited:
        return
    window = decision.period_ms // 1000
    response["RateLimit-Policy"] = f'"{group}";q={decision.limit};w={window}'
    response["RateLimit"] = f'"{group}";r={decision.remaining};t={math.ceil(decision.reset_ms / 1000)}'
