"""The product service's admin login is metered like every login form (svc_common.login_throttle; tested in full
in tests/user/test_login_throttle.py)."""

import pytest

from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_admin_login_answers_429_with_retry_after_once_the_guesses_are_spent(settings):
    settings.RATE_LIMIT_LOGIN = "2/minute"
    get_user_model().objects.create_superuser("alice", "alice@example.com", "right-password-123")
    client = Client(REMOTE_ADDR="192.0.2.1")

    statuses = [client.post("/admin/login/", {"username": "alice", "password": "wrong"}).status_code for _ in range(2)]
    refused = client.post("/admin/login/", {"username": "alice", "password": "right-password-123"})

    assert statuses == [200, 200]
    assert (refused.status_code, refused["Retry-After"]) == (429, "30")
    assert b"Too many login attempts" in refused.content
