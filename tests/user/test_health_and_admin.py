"""Health endpoints and the Django admin of the user service."""

import pytest

from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz_answer_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok"}}


def test_readyz_is_503_when_the_database_is_unreachable(client, unreachable_database):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "down"}}


def test_admin_lists_profiles_for_staff(client, make_user):
    make_user(username="listed")
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(admin)

    response = client.get("/admin/users/userprofile/")

    assert response.status_code == 200
    assert b"listed" in response.content


def test_admin_redirects_anonymous_people_to_login(client):
    response = client.get("/admin/users/userprofile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
