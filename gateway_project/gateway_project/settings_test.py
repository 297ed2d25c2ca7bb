"""Test overlay: only what makes tests faster or self-contained."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-that-is-long-enough-to-pass-the-check-0123456789")

os.environ.setdefault("SERVICE_AUTH_TOKEN", "test-service-credential")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# No collectstatic before tests: WhiteNoise serves nothing rather than warn about a missing folder.
STATIC_ROOT = None
