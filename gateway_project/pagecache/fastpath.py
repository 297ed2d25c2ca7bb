"""A raw-WSGI layer in front of Django that answers page-cache hits of the aggregate in one Redis round trip.

Same rules as the Django path, by the same functions: token hashing, the access script (token record,
rate limit, page lookup), the cache and RateLimit headers, the request id, the JSON log line and the
metrics. Anything else (a miss, a 401, a 429, a Redis failure) goes on to Django with the script's
decision attached, so no request is ever metered twice.
"""

import time
from types import SimpleNamespace

from clients.middleware import DECISION_KEY, add_rate_limit_headers
from clients.tokens import is_well_formed, token_hash
from django.conf import settings
from ratelimit import limiter
from svc_common import metrics
from svc_common.middleware import REQUEST_ID_HEADER, RequestContextMiddleware, client_ip, incoming_request_id
from svc_common.server_timing import HEADER as SERVER_TIMING
from svc_common.server_timing import server_timing

from .keys import AGGREGATE_PATH, spec_for
from .responses import page_response

# What SecurityMiddleware and XFrameOptionsMiddleware add on the Django path (HSTS needs HTTPS: not here).
SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)


class EnvironRequest:
    """The few request attributes the shared helpers read, straight from the WSGI environ."""

    # The fast path serves one route only: name it instead of resolving the URL for logs and metrics.
    resolver_match = SimpleNamespace(view_name="user-product", route=None)
    urlconf = None
    upstream_timings = None

    def __init__(self, environ: dict):
        self.META = environ
        self.method = environ["REQUEST_METHOD"]
        self.path = self.path_info = environ.get("PATH_INFO", "")
        self.request_id = incoming_request_id(self)
        self.client_id = None
        self.cache_timing_ms = None


def presented_key(environ: dict) -> str | None:
    scheme, _, key = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "token" and is_well_formed(key) else None


class FastPathApplication:
    """Wraps Django's WSGI application; see the module docstring."""

    def __init__(self, django_application):
        self.django_application = django_application

    def __call__(self, environ, start_response):
        if not self._may_serve(environ):
            return self.django_application(environ, start_response)
        started = time.perf_counter()
        request = EnvironRequest(environ)
        key = presented_key(environ)
        decision = limiter.check(
            group="read", key_hash=token_hash(key), client_ip=client_ip(request), page=spec_for(request)
        )
        if decision.verdict != "ok" or decision.page[:1] != ("hit",):
            environ[DECISION_KEY] = decision
            return self.django_application(environ, start_response)
        request.client_id = decision.client_id
        request.cache_timing_ms = round((time.perf_counter() - started) * 1000, 2)
        _, etag, content_type, body = decision.page
        response = page_response(request, etag=etag, content_type=content_type, body=body, cache_state="HIT")
        add_rate_limit_headers(response, "read", decision)
        for name, value in SECURITY_HEADERS:
            response[name] = value
        response[REQUEST_ID_HEADER] = request.request_id
        elapsed = time.perf_counter() - started
        response[SERVER_TIMING] = server_timing(request, response, elapsed * 1000)
        RequestContextMiddleware._log(request, response, started)
        metrics.record(request, response, elapsed)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [b"" if request.method == "HEAD" else response.content]

    @staticmethod
    def _may_serve(environ) -> bool:
        return (
            environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and AGGREGATE_PATH.match(environ.get("PATH_INFO", "")) is not None
            and "HTTP_AUTHORIZATION" in environ
            and presented_key(environ) is not None
            and settings.PAGE_CACHE_ENABLED
        )
