"""A raw-WSGI layer in front of Django that answers page-cache hits of the aggregate in one Redis round trip.

Same rules as the Django path, by the same functions: token hashing, the access script (token record,
rate limit, page lookup), the cache and RateLimit headers, the request id, the JSON log line and the
metrics. Anything else (a miss, a 401, a 429, a Redis failure) goes on to Django with the script's
decision attached, so no request is ever metered twice.

It builds the WSGI status and header list itself: on a hit, Django's request and response objects
would cost more CPU than the rest of the answer.
"""

import time

from django.conf import settings

from clients.middleware import DECISION_KEY, rate_limit_headers
from clients.tokens import is_well_formed, token_hash
from ratelimit import limiter
from svc_common import metrics
from svc_common.middleware import REQUEST_ID_HEADER, client_ip, incoming_request_id, log_request
from svc_common.server_timing import HEADER as SERVER_TIMING
from svc_common.server_timing import timing_header

from .keys import AGGREGATE_PATH, aggregate_spec
from .responses import CACHE_CONTROL, VARY, if_none_match_matches

# The fast path serves one route only: it names it instead of resolving the URL for logs and metrics.
ROUTE = "user-product"
# What SecurityMiddleware and XFrameOptionsMiddleware add on the Django path (HSTS needs HTTPS: not here).
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


class EnvironRequest:
    """The one request attribute the shared helpers read (META), straight from the WSGI environ."""

    __slots__ = ("META",)

    def __init__(self, environ: dict):
        self.META = environ


def presented_key(environ: dict) -> str | None:
    scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "token" and is_well_formed(key) else None


class FastPathApplication:
    """Wraps Django's WSGI application; see the module docstring."""

    def __init__(self, django_application):
        self.django_application = django_application

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        path = environ.get("PATH_INFO", "")
        match = AGGREGATE_PATH.match(path) if method in ("GET", "HEAD") else None
        key = presented_key(environ) if match is not None and "HTTP_AUTHORIZATION" in environ else None
        if key is None or not settings.PAGE_CACHE_ENABLED:
            return self.django_application(environ, start_response)
        started = time.perf_counter()
        request = EnvironRequest(environ)
        ip = client_ip(request)
        decision = limiter.check(
            group="read", key_hash=token_hash(key), client_ip=ip, page=aggregate_spec(*match.groups())
        )
        if decision.verdict != "ok" or decision.page[:1] != ("hit",):
            environ[DECISION_KEY] = decision
            return self.django_application(environ, start_response)
        lookup_ms = round((time.perf_counter() - started) * 1000, 2)
        _, etag, content_type, body = decision.page
        request_id = incoming_request_id(request)
        if if_none_match_matches(request, etag):
            status, body, headers = 304, b"", []
        else:
            status, headers = 200, [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        headers += (
            ("ETag", etag),
            ("Cache-Control", CACHE_CONTROL),
            ("Vary", VARY),
            ("X-Cache", "HIT"),
            *rate_limit_headers("read", decision),
            *SECURITY_HEADERS,
            (REQUEST_ID_HEADER, request_id),
        )
        elapsed = time.perf_counter() - started
        headers.append((SERVER_TIMING, timing_header(None, lookup_ms, "HIT", elapsed * 1000)))
        self._log(request_id, method, path, status, elapsed, ip, decision.client_id, lookup_ms)
        metrics.count(ROUTE, method, status, elapsed, "HIT")
        start_response("200 OK" if status == 200 else "304 Not Modified", headers)
        return [b""] if method == "HEAD" else [body]

    @staticmethod
    def _log(request_id, method, path, status, elapsed, ip, client_id, lookup_ms) -> None:
        log_request(
            {
                "request_id": request_id,
                "method": method,
                "path": path,
                "route": ROUTE,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
                "client_ip": ip,
                "client_id": client_id,
                "cache": "HIT",
                "cache_ms": lookup_ms,
                "upstream_ms": None,
            }
        )
