"""Settings for the user service, read from the environment (12-factor)."""

from pathlib import Path

import environ

from svc_common import conf

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = conf.secret_key(env, DEBUG)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1"])
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "svc_common",
    "users",
]

MIDDLEWARE = [
    "svc_common.metrics.MetricsMiddleware",
    "svc_common.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "user_project.urls"
WSGI_APPLICATION = "user_project.wsgi.application"

TEMPLATES = conf.TEMPLATES

DATABASES = {"default": conf.database(env, "scaling_users")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Object cache TTL: bounds staleness should an invalidation be lost.
OBJECT_CACHE_TTL = env.int("OBJECT_CACHE_TTL", default=300)
CACHES = conf.cache(env, "users")

AUTH_PASSWORD_VALIDATORS = conf.AUTH_PASSWORD_VALIDATORS

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=conf.var_dir(BASE_DIR) / "static" / "users")

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=64 * 1024)
APPEND_SLASH = False
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD = conf.hsts(env)
SILENCED_SYSTEM_CHECKS = conf.SILENCED_DEPLOY_CHECKS

REST_FRAMEWORK = conf.rest_framework()
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "svc_common.openapi.ServiceAutoSchema"
SPECTACULAR_SETTINGS = conf.spectacular(
    title="User service API",
    description="Profiles of API users. Internal: only the gateway (X-Service-Token) or a staff session may call it.",
)
# The credential the gateway presents (X-Service-Token), and old ones during a rotation (docs/security.md).
SERVICE_AUTH_TOKEN, SERVICE_AUTH_PREVIOUS_TOKENS = conf.service_credentials(env)
LOGGING = conf.logging_config(env.str("LOG_LEVEL", default="INFO"))

# /metrics (Prometheus) needs no token; it answers only these networks, seen through TRUSTED_PROXIES.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])

# Idempotency-Key: records of keyed POST/PATCH requests, replayed for this long, then pruned
# (manage.py prune_idempotency_keys).
IDEMPOTENCY_RECORD_MODEL = "users.IdempotencyRecord"
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)
