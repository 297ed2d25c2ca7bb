"""How each shared setting is read from the environment: the helpers of svc_common.settings."""

from urllib.parse import urlsplit

import environ

from django.core.exceptions import ImproperlyConfigured

INSECURE_KEY_PREFIX = "django-insecure"
MIN_SECRET_KEY_LENGTH = 50
# What every placeholder secret of the example files holds (compose/.env.example, deploy/k8s/secret.example.yaml).
EXAMPLE_MARKER = "replace-me"


def refuse_example(name: str, secret: str | None, debug: bool) -> None:
    """Outside DEBUG, a secret still holding an example file's placeholder refuses to start, so a forgotten
    compose/.env (or Secret) ships none of them."""
    if secret and not debug and EXAMPLE_MARKER in secret.lower():
        raise ImproperlyConfigured(
            f"{name} holds the example file's placeholder; set a secret of your own (docs/deploy.md)."
        )


def secret_key(env: environ.Env, debug: bool) -> str:
    """DJANGO_SECRET_KEY, required; outside DEBUG a weak or placeholder key refuses to start."""
    key = env.str("DJANGO_SECRET_KEY")
    refuse_example("DJANGO_SECRET_KEY", key, debug)
    weak = key.startswith(INSECURE_KEY_PREFIX) or len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 5
    if weak and not debug:
        raise ImproperlyConfigured(
            f"DJANGO_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} random characters when DEBUG is off."
        )
    return key


def service_credential(env: environ.Env, debug: bool) -> str:
    """SERVICE_AUTH_TOKEN: the credential the gateway presents and the services accept (no default, like any
    production secret)."""
    credential = env.str("SERVICE_AUTH_TOKEN")
    refuse_example("SERVICE_AUTH_TOKEN", credential, debug)
    return credential


def service_credentials(env: environ.Env, debug: bool) -> tuple[str, list[str]]:
    """(SERVICE_AUTH_TOKEN, SERVICE_AUTH_PREVIOUS_TOKENS) for a service the gateway calls: the credential it
    accepts and the old ones still accepted during a rotation."""
    return service_credential(env, debug), env.list("SERVICE_AUTH_PREVIOUS_TOKENS", default=[])


def hsts(env: environ.Env) -> tuple[int, bool, bool]:
    """(SECURE_HSTS_SECONDS, SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD); sent on HTTPS only."""
    return (
        env.int("DJANGO_HSTS_SECONDS", default=31_536_000),
        env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True),
        env.bool("DJANGO_HSTS_PRELOAD", default=False),
    )


def database(env: environ.Env, default_name: str, debug: bool) -> dict:
    """DATABASE_URL (PostgreSQL or SQLite) with persistent, health-checked connections."""
    url = env.str("DATABASE_URL", default=f"postgres://postgres@127.0.0.1:5432/{default_name}")
    refuse_example("DATABASE_URL", urlsplit(url).password, debug)
    config = env.db_url_config(url)
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    if config["ENGINE"].endswith("postgresql"):
        config.setdefault("OPTIONS", {})["connect_timeout"] = env.int("DATABASE_CONNECT_TIMEOUT", default=3)
    else:
        # SQLite fallback: a transaction takes the write lock when it begins (IMMEDIATE), and waits up to 10 s
        # for it, so concurrent writers queue instead of deadlocking ("database is locked").
        config.setdefault("OPTIONS", {}).update(timeout=10, transaction_mode="IMMEDIATE")
    return config


def cache(env: environ.Env, key_prefix: str, debug: bool) -> dict:
    """django-redis at REDIS_URL with short socket timeouts, so a sick Redis costs milliseconds."""
    url = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
    refuse_example("REDIS_URL", urlsplit(url).password, debug)
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": key_prefix,
            "TIMEOUT": env.int("CACHE_TTL", default=300),
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


def rest_framework(*, page_size: int = 20) -> dict:
    """DRF defaults: JSON first, the browsable API for people, the shared error handler.

    APIs accept the gateway's service credential, or a staff session for the browsable API.
    """
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "svc_common.service_auth.GatewayAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["svc_common.service_auth.IsGatewayOrStaff"],
        "DEFAULT_RENDERER_CLASSES": [
            "rest_framework.renderers.JSONRenderer",
            "rest_framework.renderers.BrowsableAPIRenderer",
        ],
        "DEFAULT_PARSER_CLASSES": ["svc_common.parsers.JSONParser"],
        "DEFAULT_PAGINATION_CLASS": "svc_common.pagination.ListPagination",
        "PAGE_SIZE": page_size,
        "DEFAULT_FILTER_BACKENDS": [
            "django_filters.rest_framework.DjangoFilterBackend",
            "svc_common.filters.IndexedSearchFilter",
            "svc_common.filters.IndexedOrderingFilter",
        ],
        "EXCEPTION_HANDLER": "svc_common.errors.exception_handler",
        "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    }


def spectacular(*, title: str, description: str) -> dict:
    """SPECTACULAR_SETTINGS of a service: the schema at /api/schema/, behind the service credential too."""
    return {
        "TITLE": title,
        "DESCRIPTION": description,
        "VERSION": "1.0.0",
        "SERVE_INCLUDE_SCHEMA": False,
        "SERVE_PERMISSIONS": ["svc_common.service_auth.IsGatewayOrStaff"],
        "COMPONENT_SPLIT_REQUEST": True,
    }


def logging_config(level: str) -> dict:
    """One JSON line per record on stderr, carrying the request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "svc_common.logging.JsonFormatter"}},
        "filters": {"request_id": {"()": "svc_common.logging.RequestIdFilter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # The request log middleware already writes one line per request.
            "django.request": {"level": "CRITICAL"},
            "django.server": {"level": "CRITICAL"},
            # httpx logs every call at INFO; upstream timings are already on the request line.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }
