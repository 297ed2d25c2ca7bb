"""What the internal services (users, products) share on top of svc_common.settings.base.

Each service's settings.py star-imports this module and names itself with named() and schema().
"""

from pathlib import Path

import environ

from svc_common import conf
from svc_common.settings.base import *  # noqa: F403
from svc_common.settings.base import DEBUG, INSTALLED_APPS, env, storage

MIDDLEWARE = [
    "svc_common.metrics.MetricsMiddleware",
    "svc_common.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # After the CSRF check: a forged login POST costs nothing.
    "svc_common.login_throttle.LoginThrottleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Object cache TTL: bounds staleness should an invalidation be lost.
OBJECT_CACHE_TTL = env.int("OBJECT_CACHE_TTL", default=300)

REST_FRAMEWORK = {**conf.rest_framework(), "DEFAULT_SCHEMA_CLASS": "svc_common.openapi.ServiceAutoSchema"}
# The credential the gateway presents (X-Service-Token), and old ones during a rotation (docs/security.md).
SERVICE_AUTH_TOKEN, SERVICE_AUTH_PREVIOUS_TOKENS = conf.service_credentials(env, DEBUG)

# Idempotency-Key: records of keyed POST/PATCH requests, replayed for this long, then pruned
# (manage.py prune_idempotency_keys).
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)
# How long a duplicate waits for the request in flight with its key before a 409 (under the gateway's
# UPSTREAM_READ_TIMEOUT, so a retried write gets the first one's answer, not a gateway timeout).
IDEMPOTENCY_WAIT_SECONDS = env.float("IDEMPOTENCY_WAIT_SECONDS", default=2.0)


def named(app: str, base_dir: Path) -> tuple[list[str], dict, dict, environ.Path, str]:
    """(INSTALLED_APPS, DATABASES, CACHES, STATIC_ROOT, IDEMPOTENCY_RECORD_MODEL) of the service whose
    domain app is `app` (and whose project directory is `base_dir`): all named after the app."""
    # django.contrib.postgres: the trigram indexes of the services' searches (migrations 0003).
    apps = [*INSTALLED_APPS, "django.contrib.postgres", "django_filters", "drf_spectacular", "svc_common", app]
    return (apps, *storage(app, base_dir), f"{app}.IdempotencyRecord")


def schema(*, title: str, description: str) -> dict:
    """SPECTACULAR_SETTINGS: the service's schema, internal like the service itself."""
    return conf.spectacular(
        title=title,
        description=f"{description} Internal: only the gateway (X-Service-Token) or a staff session may call it.",
    )
