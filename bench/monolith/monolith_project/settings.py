"""The fair monolith: users and products in one project and ONE PostgreSQL database, read by one DRF view."""

import environ

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "catalog",
]

# Django's default stack, as `startproject` writes it.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "monolith_project.urls"
WSGI_APPLICATION = "monolith_project.wsgi.application"

# Persistent, health-checked connections: the same database settings as the services.
DATABASES = {"default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/bench_monolith")}
DATABASES["default"]["CONN_MAX_AGE"] = 60
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

USE_TZ = True
TIME_ZONE = "UTC"
APPEND_SLASH = False
LOGGING_CONFIG = None

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    # The product service's list behaviour (svc_common): indexed orderings and searches, bounded counts.
    "DEFAULT_PAGINATION_CLASS": "svc_common.pagination.ListPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "svc_common.filters.IndexedSearchFilter",
        "svc_common.filters.IndexedOrderingFilter",
    ],
}

# Django's own Redis cache in front of the reads (catalog.caching), for the mixed workload; off for the
# scenarios that measure the monolith's database reads.
MONOLITH_CACHE = env.bool("MONOLITH_CACHE", default=False)
MONOLITH_CACHE_TTL = 300
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": env.str("REDIS_URL", default="redis://127.0.0.1:6379/11"),
        "KEY_PREFIX": "monolith",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
    }
}
