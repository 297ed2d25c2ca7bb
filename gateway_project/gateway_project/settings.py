"""Settings of the API gateway: the shared settings (svc_common.settings.base) and the gateway's own."""

from pathlib import Path

from corsheaders.defaults import default_headers as cors_default_headers

from svc_common import conf
from svc_common.settings.base import *  # noqa: F403
from svc_common.settings.base import DEBUG, INSTALLED_APPS, REST_FRAMEWORK, env, storage

BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "clients",
    "access",
    "upstream",
    "aggregation",
    "proxy",
    "apidocs",
    "browsable",
    "corsheaders",
    "status",
    "drf_spectacular",
    "drf_spectacular_sidecar",
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
    # After the CSRF check: a forged login POST costs nothing.
    "svc_common.login_throttle.LoginThrottleMiddleware",
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
SERVICE_AUTH_TOKEN = conf.service_credential(env, DEBUG)

# API tokens and rate limits (per token; per client IP for token creation).
TOKEN_TTL_SECONDS = env.int("TOKEN_TTL_SECONDS", default=30 * 24 * 3600)
TOKEN_RECORD_TTL_SECONDS = env.int("TOKEN_RECORD_TTL_SECONDS", default=60)
# While the database cannot be reached, a record verified no longer than this ago still serves its client (a
# revocation needs the database too, and drops the record when it commits).
TOKEN_RECORD_GRACE_SECONDS = env.int("TOKEN_RECORD_GRACE_SECONDS", default=600)
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

# People log in at the gateway with Django's login view (DRF's template): the browsable API, Swagger UI, tokens.
LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/api/"
LOGOUT_REDIRECT_URL = "/"

# The gateway's OpenAPI contract: generated by `./manage_all.sh openapi` (apidocs.build) into
# apidocs/gateway.yaml, from its own views and the services' documents below (in the repository only).
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}
SERVICE_CONTRACTS = {
    service: BASE_DIR.parent / "docs" / "openapi" / f"{service}.yaml" for service in ("users", "products")
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API gateway",
    "DESCRIPTION": (
        "The one public entry point. Every /api/ route needs `Authorization: Token <key>` (from POST "
        "/api/auth/token/, which needs none, or the /tokens/ page) or the session of a person logged in at "
        "/api-auth/login/, and is rate limited per API client, a client's tokens and sessions together: reads, "
        "writes and token creation are metered separately, and the RateLimit-Policy / RateLimit headers say "
        "where a client stands. /api/users/… and /api/products/… pass through to the user and product "
        "services; GET /api/{user_id}/{product_id}/ combines one of each. Every error has one shape: "
        '{"error": {"code", "message", "detail"}}.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "AUTHENTICATION_WHITELIST": [],  # the access step authenticates; apidocs.build states how
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "apidocs.build.postprocess"],
    "TAGS": [
        {"name": "auth", "description": "API tokens."},
        {"name": "users", "description": "User profiles, passed through to the user service."},
        {"name": "products", "description": "The catalogue, passed through to the product service."},
        {"name": "aggregation", "description": "One user and one product in one answer."},
    ],
    # Swagger UI and ReDoc from drf-spectacular-sidecar's copies, served by WhiteNoise: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True, "filter": True},
}
