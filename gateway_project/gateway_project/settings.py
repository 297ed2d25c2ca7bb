"""Settings of the API gateway: the shared settings (svc_common.settings.base) and the gateway's own."""

from pathlib import Path

from corsheaders.defaults import default_headers as cors_default_headers

from svc_common.settings.base import *  # noqa: F403
from svc_common.settings.base import INSTALLED_APPS, env, storage

BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "clients",
    "access",
    "upstream",
    "aggregation",
    "proxy",
    "apidocs",
    "corsheaders",
    "status",
]

MIDDLEWARE = [
    "svc_common.metrics.MetricsMiddleware",
    "svc_common.middleware.RequestContextMiddleware",
    "svc_common.server_timing.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "status.rejections.RejectionMetricsMiddleware",
    # Before AccessMiddleware: preflights carry no token, and 401/429 answers need the CORS headers too.
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost: every answer it makes, page-cache hits included, passes through all of the above.
    "access.middleware.AccessMiddleware",
]

ROOT_URLCONF = "gateway_project.urls"
WSGI_APPLICATION = "gateway_project.wsgi.application"
DATABASES, CACHES, STATIC_ROOT = storage("gateway", BASE_DIR)

# The threads each gateway worker runs Django on, behind its event loop (gateway_project/asgi.py): the same
# variable, and meaning, as gthread's threads for the other services.
DJANGO_THREADS = env.int("GUNICORN_THREADS", default=4)

# The status page (/status/, staff only): HAProxy's stats CSV, and each replica's /metrics found through it.
HAPROXY_STATS_URL = env.str("HAPROXY_STATS_URL", default="http://127.0.0.1:8404/stats;csv")
STATUS_FETCH_TIMEOUT = env.float("STATUS_FETCH_TIMEOUT", default=1.0)
STATUS_REFRESH_SECONDS = env.int("STATUS_REFRESH_SECONDS", default=5)

# Upstream services: reached through their load-balanced entry points, never by importing their code.
USERS_SERVICE_URL = env.str("USERS_SERVICE_URL", default="http://127.0.0.1:8001")
PRODUCTS_SERVICE_URL = env.str("PRODUCTS_SERVICE_URL", default="http://127.0.0.1:8002")
UPSTREAM_CONNECT_TIMEOUT = env.float("UPSTREAM_CONNECT_TIMEOUT", default=1.0)
UPSTREAM_READ_TIMEOUT = env.float("UPSTREAM_READ_TIMEOUT", default=5.0)
UPSTREAM_POOL_SIZE = env.int("UPSTREAM_POOL_SIZE", default=32)
SERVICE_AUTH_TOKEN = env.str("SERVICE_AUTH_TOKEN")

# API tokens and rate limits (per token; per client IP for token creation).
TOKEN_TTL_SECONDS = env.int("TOKEN_TTL_SECONDS", default=30 * 24 * 3600)
TOKEN_RECORD_TTL_SECONDS = env.int("TOKEN_RECORD_TTL_SECONDS", default=60)
RATE_LIMITS = {
    "read": env.str("RATE_LIMIT_READ", default="600/minute"),
    "write": env.str("RATE_LIMIT_WRITE", default="120/minute"),
    "auth": env.str("RATE_LIMIT_AUTH", default="10/minute"),
}
# Redis down: True lets requests through unmetered (availability); False refuses them with 429.
RATE_LIMIT_FAIL_OPEN = env.bool("RATE_LIMIT_FAIL_OPEN", default=True)

# CORS (django-cors-headers) is off unless CORS_ALLOWED_ORIGINS lists origins: "https://a.example,https://b.example".
CORS_ALLOWED_ORIGINS = [origin.strip() for origin in env.list("CORS_ALLOWED_ORIGINS", default=[])]
CORS_PATHS = r"^/(api|schema)(/|$)"
# With no origin allowed the middleware matches no path: no CORS headers, not even Vary: origin.
CORS_URLS_REGEX = CORS_PATHS if CORS_ALLOWED_ORIGINS else r"^(?!)"
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "x-request-id")
CORS_EXPOSE_HEADERS = ["RateLimit", "RateLimit-Policy", "Retry-After", "X-Request-ID"]

# Page cache of GET /api/<user_id>/<product_id>/ and proxied GETs. Entries are also invalidated by the
# services' counters (docs/caching.md); the TTL only bounds the damage if an invalidation is lost.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=True)
PAGE_CACHE_TTL = env.int("PAGE_CACHE_TTL", default=300)
PAGE_CACHE_LOCK_MS = env.int("PAGE_CACHE_LOCK_MS", default=3000)
PAGE_CACHE_WAIT_SECONDS = env.float("PAGE_CACHE_WAIT_SECONDS", default=2.0)
