"""What every project's settings share, read from the environment (12-factor).

A project's settings.py star-imports this module (the gateway) or svc_common.settings.service (users,
products), then adds only what is its own: its apps, URLconf, names and project-specific settings.
"""

from pathlib import Path

import environ

from svc_common import conf

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = conf.secret_key(env, DEBUG)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1"])
# No hop sets X-Forwarded-Host (HAProxy deletes a client's; the gateway passes the client's Host on): every
# project answers for the Host it is sent.
USE_X_FORWARDED_HOST = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Origins (scheme included) whose browser POSTs pass the CSRF check besides this host's own, e.g. the public
# https:// address when TLS ends at an edge in front of HAProxy (docs/deploy.md).
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# Django's apps and DRF; a project appends its own.
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
]

# The admin's templates (app directories).
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=64 * 1024)
APPEND_SLASH = False
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD = conf.hsts(env)
# Deploy checks silenced on purpose (README, "Security"): TLS ends at the edge proxy, which redirects
# HTTP to HTTPS; replicas speak plain HTTP to it and to its health checks. HSTS preload is opt-in.
SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W021"]

REST_FRAMEWORK = conf.rest_framework()
LOGGING = conf.logging_config(env.str("LOG_LEVEL", default="INFO"))

# Password guesses at the login forms (svc_common.login_throttle): per address and per username, failures only.
RATE_LIMIT_LOGIN = env.str("RATE_LIMIT_LOGIN", default="10/minute")
LOGIN_THROTTLED_VIEWS = ["admin:login", "rest_framework:login"]

# /metrics (Prometheus) needs no token; it answers only these networks, seen through TRUSTED_PROXIES.
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])


def storage(name: str, base_dir: Path) -> tuple[dict, dict, environ.Path]:
    """(DATABASES, CACHES, STATIC_ROOT) of the project called `name`, whose directory is `base_dir`.

    Its own database (scaling_<name> by default), its own prefix for cache keys in the shared Redis, and
    its own folder for collected static files (var/static/<name> at the repository root by default).
    """
    return (
        {"default": conf.database(env, f"scaling_{name}", DEBUG)},
        conf.cache(env, name, DEBUG),
        env.path("DJANGO_STATIC_ROOT", default=base_dir.parent / "var" / "static" / name),
    )
