"""svc_common.settings: the shared base, the services' layer and the test overlay, named per project."""

from pathlib import Path

from django.conf import settings

from svc_common.settings.base import storage
from svc_common.settings.service import named, schema

PROJECT_DIR = Path("/srv/app/user_project")


def test_a_project_is_given_its_own_database_cache_prefix_and_static_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DJANGO_STATIC_ROOT", raising=False)

    databases, caches, static_root = storage("gateway", Path("/srv/app/gateway_project"))

    assert databases["default"]["NAME"] == "scaling_gateway"
    assert caches["default"]["KEY_PREFIX"] == "gateway"
    assert str(static_root) == "/srv/app/var/static/gateway"


def test_a_service_is_named_after_its_domain_app(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DJANGO_STATIC_ROOT", raising=False)

    apps, databases, caches, static_root, record_model = named("users", PROJECT_DIR)

    assert apps[-4:] == ["django_filters", "drf_spectacular", "svc_common", "users"]
    assert apps[0] == "django.contrib.admin"
    assert databases["default"]["NAME"] == "scaling_users"
    assert caches["default"]["KEY_PREFIX"] == "users"
    assert str(static_root) == "/srv/app/var/static/users"
    assert record_model == "users.IdempotencyRecord"


def test_the_environment_still_overrides_the_database_and_static_folder(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.internal:5432/people")
    monkeypatch.setenv("DJANGO_STATIC_ROOT", "/app/static")

    _apps, databases, _caches, static_root, _model = named("users", PROJECT_DIR)

    assert (databases["default"]["HOST"], databases["default"]["NAME"]) == ("db.internal", "people")
    assert str(static_root) == "/app/static"


def test_a_service_schema_says_it_is_internal():
    assert schema(title="User service API", description="Profiles of API users.")["DESCRIPTION"] == (
        "Profiles of API users. Internal: only the gateway (X-Service-Token) or a staff session may call it."
    )


def test_the_user_service_settings_are_the_shared_ones_named_for_users():
    assert settings.INSTALLED_APPS[-1] == "users"
    assert settings.ROOT_URLCONF == "user_project.urls"
    assert settings.IDEMPOTENCY_RECORD_MODEL == "users.IdempotencyRecord"
    assert settings.CACHES["default"]["KEY_PREFIX"] == "users"
    assert settings.SPECTACULAR_SETTINGS["TITLE"] == "User service API"
    assert settings.REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] == "svc_common.openapi.ServiceAutoSchema"


def test_the_test_overlay_applies_over_the_project_settings():
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.STATIC_ROOT is None
    assert settings.LOGGING["root"]["level"] == "WARNING"
