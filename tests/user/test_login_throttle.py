"""Login forms (svc_common.login_throttle): password guesses are metered per address and per username before any
password is checked; a locked-out caller gets a 429 page with Retry-After. Run here on the user service's admin
and browsable-API login; tests/product and tests/gateway check their own admin."""

import pytest
from django_redis import get_redis_connection

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

LOGIN_FORMS = ["/admin/login/", "/api-auth/login/"]


@pytest.fixture(autouse=True)
def three_a_minute(settings):
    settings.RATE_LIMIT_LOGIN = "3/minute"


@pytest.fixture
def staff():
    return get_user_model().objects.create_superuser("alice", "alice@example.com", "right-password-123")


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was checked."""
    checks = []
    real = ModelBackend.authenticate

    def counted(self, request, username=None, password=None, **kwargs):
        checks.append(username)
        return real(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counted)
    return checks


def login(path: str, username: str, password: str, address: str = "192.0.2.1"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_the_limit_of_wrong_passwords_then_a_429_page_with_retry_after(path, staff, password_checks):
    statuses = [login(path, "alice", f"wrong-{n}").status_code for n in range(3)]

    refused = login(path, "alice", "wrong-again")

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused["Content-Type"] == "text/html; charset=utf-8"
    assert refused["Retry-After"] == "20"
    assert b"<h1>Too many login attempts</h1><p>Wait 20 seconds, then try again.</p>" in refused.content
    assert len(password_checks) == 3


@pytest.mark.parametrize("path", LOGIN_FORMS)
def test_a_locked_out_address_is_refused_before_any_database_work_even_with_the_right_password(
    path, staff, password_checks
):
    for n in range(3):
        login(path, "mallory", f"guess-{n}")

    with CaptureQueriesContext(connection) as queries:
        right = login(path, "alice", "right-password-123")

    assert right.status_code == 429
    assert len(queries) == 0
    assert password_checks == ["mallory"] * 3


def test_a_username_is_limited_from_every_address(staff):
    spread = [login("/admin/login/", "alice", "wrong", address=f"192.0.2.{n}").status_code for n in range(1, 4)]

    fourth_address = login("/admin/login/", "alice", "wrong", address="192.0.2.4")
    other_user = login("/admin/login/", "bob", "wrong", address="192.0.2.4")

    assert spread == [200, 200, 200]
    assert (fourth_address.status_code, other_user.status_code) == (429, 200)


def test_usernames_are_compared_case_folded(staff):
    for n, name in enumerate(("alice", "ALICE", "Alice"), start=1):
        login("/admin/login/", name, "wrong", address=f"198.51.100.{n}")

    assert login("/admin/login/", "aLiCe", "wrong", address="203.0.113.9").status_code == 429


def test_successful_logins_give_their_steps_back(staff):
    statuses = [login("/admin/login/", "alice", "right-password-123").status_code for _ in range(5)]

    assert statuses == [302] * 5


def test_the_state_lives_in_redis_without_ttl_and_is_listed_for_deletion(staff):
    login("/admin/login/", "alice", "wrong")

    redis = get_redis_connection("default")
    keys = sorted(key.decode() for key in redis.zrange("login:users:expiry", 0, -1))
    assert keys[0] == "login:users:ip:192.0.2.1" and keys[1].startswith("login:users:user:")
    assert [redis.ttl(key) for key in keys] == [-1, -1]


def test_with_redis_down_a_login_goes_through(staff, settings):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}
    from svc_common.breaker import redis_breaker

    try:
        statuses = [login("/admin/login/", "alice", "wrong").status_code for _ in range(4)]
    finally:
        redis_breaker.reset()

    assert statuses == [200, 200, 200, 200]
