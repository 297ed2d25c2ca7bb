"""The test overlays' shared part: a test environment set before the settings load, and faster settings.

A project's settings_test.py calls use_test_environment(), star-imports its settings, then this module.
"""

import os

from svc_common import conf

__all__ = ["LOGGING", "PASSWORD_HASHERS", "STATIC_ROOT"]

TEST_SECRET_KEY = "test-only-secret-key-that-is-long-enough-to-pass-the-check-0123456789"  # noqa: S105
TEST_SERVICE_TOKEN = "test-service-credential"  # noqa: S105


def use_test_environment(*, redis_db: int) -> None:
    """Defaults for what a test run needs but may not be given: a secret key, the service credential and a
    Redis database of the suite's own (an explicit environment wins)."""
    os.environ.setdefault("DJANGO_SECRET_KEY", TEST_SECRET_KEY)
    os.environ.setdefault("SERVICE_AUTH_TOKEN", TEST_SERVICE_TOKEN)
    os.environ.setdefault("REDIS_URL", f"redis://127.0.0.1:6379/{redis_db}")


PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = conf.logging_config("WARNING")
# No collectstatic before tests: WhiteNoise serves nothing rather than warn about a missing folder.
STATIC_ROOT = None
