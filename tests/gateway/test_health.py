"""The gateway's own health endpoints and error pages."""

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz_answer_ok(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok", "checks": {"database": "ok"}}


def test_an_unknown_route_is_a_json_404(client):
    response = client.get("/no/such/route")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "No route matches /no/such/route.", "detail": None}
    }


def test_every_response_carries_a_request_id_and_keeps_a_well_formed_one(client):
    minted = client.get("/healthz")
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="client-chosen-id-1")
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")

    assert len(minted["X-Request-ID"]) == 32
    assert kept["X-Request-ID"] == "client-chosen-id-1"
    assert replaced["X-Request-ID"] != "bad id with spaces"
