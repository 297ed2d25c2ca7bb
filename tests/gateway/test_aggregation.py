"""GET /api/<user_id>/<product_id>/ against the real services."""

import asyncio
import json
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


def test_aggregate_returns_the_user_and_the_product_read_from_the_services(client):
    response = client.get("/api/1/2/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "product"}
    assert (body["user"]["id"], body["user"]["username"], body["user"]["email"]) == (
        1,
        "user_1",
        "user_1@example.com",
    )
    assert (body["product"]["id"], body["product"]["sku"], body["product"]["price"]) == (2, "SKU-000002", "159.38")


def test_the_no_trailing_slash_form_answers_without_redirect(client):
    response = client.get("/api/3/4")

    assert response.status_code == 200
    assert (response.json()["user"]["id"], response.json()["product"]["id"]) == (3, 4)


def test_an_unknown_product_is_404_naming_the_product(client):
    response = client.get("/api/1/99999/")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Product 99999 does not exist.", "detail": {"product_id": 99999}}
    }


def test_both_unknown_is_404_naming_both_parts(client):
    response = client.get("/api/88888/99999/")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "User 88888 and Product 99999 do not exist."
    assert response.json()["error"]["detail"] == {"user_id": 88888, "product_id": 99999}


@pytest.mark.parametrize("path", ["/api/abc/1/", "/api/1/-2/", "/api/0/1/", "/api/1/99999999999999999999/"])
def test_ids_that_are_not_positive_integers_are_400(client, path):
    response = client.get(path)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_id"


def test_a_write_method_on_the_aggregate_is_405_json_naming_the_allowed_methods(client):
    response = client.post("/api/1/1/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"


def test_a_stopped_upstream_is_502_naming_it(client, settings):
    settings.USERS_SERVICE_URL = "http://127.0.0.1:1"

    response = client.get("/api/1/1/")

    assert response.status_code == 502
    assert response.json() == {
        "error": {
            "code": "upstream_unavailable",
            "message": "The users service is unavailable.",
            "detail": {"service": "users"},
        }
    }


def test_an_upstream_that_never_answers_is_504_naming_it(client, settings, silent_server):
    settings.PRODUCTS_SERVICE_URL = silent_server
    settings.UPSTREAM_READ_TIMEOUT = 0.3

    response = client.get("/api/1/1/")

    assert response.status_code == 504
    assert response.json()["error"] == {
        "code": "upstream_timeout",
        "message": "The products service did not answer in time.",
        "detail": {"service": "products"},
    }


def test_the_user_and_product_calls_are_in_flight_at_the_same_time(monkeypatch):
    from aggregation import services

    # Each call waits until the other has started: sequential calls would never pass the barrier.
    both_started = asyncio.Barrier(2)
    fetch = services._fetch

    async def fetch_once_both_started(service, object_id, headers):
        await asyncio.wait_for(both_started.wait(), 5)
        return await fetch(service, object_id, headers)

    monkeypatch.setattr(services, "_fetch", fetch_once_both_started)

    body, timings, parts = asyncio.run(
        services.user_product_fetch(
            user_id=5,
            product_id=6,
            headers={"X-Service-Token": "test-service-credential", "Accept": "application/json"},
        )
    )

    assert (json.loads(body)["user"]["id"], json.loads(body)["product"]["id"]) == (5, 6)
    assert set(timings) == {"users", "products"}
    assert parts == []  # no page cache in this call: nothing to store


SERVICE_REFUSAL = (
    b'{"error": {"code": "database_unavailable", "message": "The database is unavailable.", "detail": null}}'
)
LOAD_BALANCER_REFUSAL = (
    (Path(__file__).resolve().parents[2] / "haproxy/errors/503.http").read_bytes().split(b"\r\n\r\n")[-1]
)


@pytest.fixture
def refusing_server():
    """An HTTP server on loopback that answers every request 503 with the body the test sets."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Refuse(BaseHTTPRequestHandler):
        body = b""

        def do_GET(self):
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(self.body)))
            self.end_headers()
            self.wfile.write(self.body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Refuse, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            SERVICE_REFUSAL,
            {
                "code": "upstream_degraded",
                "message": "The users service cannot answer right now; retry shortly.",
                "detail": {"service": "users", "reason": "database_unavailable"},
            },
        ),
        (
            LOAD_BALANCER_REFUSAL,
            {
                "code": "upstream_busy",
                "message": "The users service is at capacity; retry shortly.",
                "detail": {"service": "users"},
            },
        ),
    ],
    ids=["the-service-says-why", "the-load-balancer-is-full"],
)
def test_a_503_of_a_part_is_a_503_that_says_who_refused_and_why(client, settings, refusing_server, body, error):
    handler, url = refusing_server
    handler.body = body
    settings.USERS_SERVICE_URL = url

    response = client.get("/api/1/1/")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["error"] == error
