"""Only the gateway (shared credential) or logged-in staff may call the user API."""

import pytest
from rest_framework.test import APIClient

from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_a_direct_call_without_the_credential_is_refused_with_401():
    response = APIClient().get("/api/users/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Service realm="internal"'
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_wrong_credential_is_refused_and_writes_nothing():
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN="guess")

    response = client.post("/api/users/", {"username": "x", "email": "x@example.com"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid service credential.",
        "detail": None,
    }
    from users.models import UserProfile

    assert UserProfile.objects.count() == 0


def test_during_a_rotation_the_previous_credential_still_works_and_others_do_not(settings):
    settings.SERVICE_AUTH_TOKEN = "new-credential"
    settings.SERVICE_AUTH_PREVIOUS_TOKENS = ["old-credential"]

    statuses = {}
    for credential in ("new-credential", "old-credential", "older-credential", ""):
        client = APIClient()
        client.credentials(HTTP_X_SERVICE_TOKEN=credential)
        statuses[credential] = client.get("/api/users/").status_code

    assert statuses == {"new-credential": 200, "old-credential": 200, "older-credential": 401, "": 401}


def test_an_empty_previous_credential_never_lets_an_empty_header_in(settings):
    settings.SERVICE_AUTH_PREVIOUS_TOKENS = [""]  # SERVICE_AUTH_PREVIOUS_TOKENS set but left empty
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN="")

    assert client.get("/api/users/").status_code == 401


def test_logged_in_staff_can_use_the_browsable_api():
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client = APIClient()
    client.force_login(staff)

    assert client.get("/api/users/", HTTP_ACCEPT="text/html").status_code == 200


def test_logged_in_non_staff_is_forbidden():
    person = get_user_model().objects.create_user("person", password="pw")
    client = APIClient()
    client.force_login(person)

    assert client.get("/api/users/").status_code == 403


def test_health_endpoints_need_no_credential():
    assert APIClient().get("/healthz").status_code == 200
