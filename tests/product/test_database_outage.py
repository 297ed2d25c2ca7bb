"""A database outage: a JSON 503 with Retry-After for what needs the database, never a 500; cached reads go on."""

import contextlib

import pytest

from django.db import connections

pytestmark = pytest.mark.django_db(transaction=True)

UNAVAILABLE = {
    "error": {"code": "database_unavailable", "message": "The database is unavailable; retry shortly.", "detail": None}
}


@contextlib.contextmanager
def database_down():
    """Point the connection at a port nothing listens on, as a restarting PostgreSQL refuses connections."""
    connection = connections["default"]
    original = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original


def test_a_list_read_during_an_outage_is_a_json_503_with_retry_after(api_client):
    with database_down():
        response = api_client.get("/api/products/")

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert response["Retry-After"] == "1"


def test_a_keyed_create_during_an_outage_is_a_json_503_and_a_retry_with_the_key_applies_it_once(api_client):
    payload = {"name": "Lamp", "sku": "OUTAGE-1", "price": "1.00"}
    headers = {"HTTP_IDEMPOTENCY_KEY": "outage-key-1"}

    with database_down():
        refused = api_client.post("/api/products/", payload, format="json", **headers)
    retried = api_client.post("/api/products/", payload, format="json", **headers)
    replayed = api_client.post("/api/products/", payload, format="json", **headers)

    assert (refused.status_code, refused.json(), refused["Retry-After"]) == (503, UNAVAILABLE, "1")
    assert retried.status_code == 201
    assert (replayed.status_code, replayed["Idempotent-Replayed"]) == (201, "true")
    assert replayed.json()["id"] == retried.json()["id"]


def test_a_detail_read_the_object_cache_holds_is_still_answered_during_an_outage(api_client, make_product):
    product = make_product(name="Cached lamp")
    api_client.get(f"/api/products/{product.pk}/")  # fills the object cache

    with database_down():
        cached = api_client.get(f"/api/products/{product.pk}/")
        uncached = api_client.get(f"/api/products/{product.pk + 1000}/")

    assert (cached.status_code, cached.json()["name"]) == (200, "Cached lamp")
    assert (uncached.status_code, uncached.json()) == (503, UNAVAILABLE)


def test_the_service_answers_again_when_the_database_is_back_without_a_restart(api_client, make_product):
    make_product(name="Back again")
    with database_down():
        during = api_client.get("/api/products/")
    after = api_client.get("/api/products/")

    assert during.status_code == 503
    assert (after.status_code, [row["name"] for row in after.json()["results"]]) == (200, ["Back again"])
