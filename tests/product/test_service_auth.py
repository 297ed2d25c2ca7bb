"""Only the gateway (shared credential) or logged-in staff may call the product API."""

import pytest
from rest_framework.test import APIClient

from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


def test_a_direct_call_without_the_credential_is_refused_with_401():
    response = APIClient().get("/api/products/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Service realm="internal"'
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_wrong_credential_is_refused_and_writes_nothing():
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN="guess")

    response = client.post("/api/products/", {"name": "x", "sku": "x-1", "price": "1.00"}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "authentication_failed",
        "message": "Invalid service credential.",
        "detail": None,
    }
    from products.models import Product

    assert Product.objects.count() == 0


def test_logged_in_staff_can_use_the_browsable_api():
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    client = APIClient()
    client.force_login(staff)

    assert client.get("/api/products/", HTTP_ACCEPT="text/html").status_code == 200


def test_logged_in_non_staff_is_forbidden():
    person = get_user_model().objects.create_user("person", password="pw")
    client = APIClient()
    client.force_login(person)

    assert client.get("/api/products/").status_code == 403


def test_health_endpoints_need_no_credential():
    assert APIClient().get("/healthz").status_code == 200
