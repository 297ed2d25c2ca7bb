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
from svc_common.client_ip import client_ip
from svc_common.request_id import REQUEST_ID_HEADER, incoming_request_id
from svc_common.request_log import log_request
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


def hit_candidate(environ: dict) -> dict | None:
    """The access check for a request that may be a page-cache hit of the aggregate, else None."""
    method = environ.get("REQUEST_METHOD")
    match = AGGREGATE_PATH.match(environ.get("PATH_INFO", "")) if method in ("GET", "HEAD") else None
    key = presented_key(environ) if match is not None and "HTTP_AUTHORIZATION" in environ else None
    if key is None or not settings.PAGE_CACHE_ENABLED:
        return None
    return {
        "group": "read",
        "key_hash": token_hash(key),
        "client_ip": client_ip(EnvironRequest(environ)),
        "page": aggregate_spec(*match.groups()),
    }


def is_hit(decision: limiter.Decision) -> bool:
    return decision.verdict == "ok" and decision.page[:1] == ("hit",)


def hit_answer(environ: dict, access: dict, decision: limiter.Decision, started: float):
    """Status line, headers and body of a hit, with its log line and metrics written."""
    lookup_ms = round((time.perf_counter() - started) * 1000, 2)
    _, etag, content_type, body = decision.page
    request = EnvironRequest(environ)
    method = environ["REQUEST_METHOD"]
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
    log_request(
        {
            "request_id": request_id,
            "method": method,
            "path": environ["PATH_INFO"],
            "route": ROUTE,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "client_ip": access["client_ip"],
            "client_id": decision.client_id,
            "cache": "HIT",
            "cache_ms": lookup_ms,
            "upstream_ms": None,
        }
    )
    metrics.count(ROUTE, method, status, elapsed, "HIT")
    return "200 OK" if status == 200 else "304 Not Modified", headers, b"" if method == "HEAD" else body


class FastPathApplication:
    """Wraps Django's WSGI application; see the module docstring."""

    def __init__(self, django_application):
        self.django_application = django_application

    def __call__(self, environ, start_response):
        access = hit_candidate(environ)
        if access is None:
            return self.django_application(environ, start_response)
        started = time.perf_counter()
        decision = limiter.check(**access)
        if not is_hit(decision):
            environ[DECISION_KEY] = decision
            return self.django_application(environ, start_response)
        status, headers, body = hit_answer(environ, access, decision, started)
        start_response(status, headers)
        return [body]
