"""/api/users/… and /api/products/… passed through to the real services."""

import json
import uuid

import pytest

from django.test import RequestFactory

from upstream.headers import returned_headers, upstream_request_headers

pytestmark = pytest.mark.django_db


def test_query_strings_pass_through(client):
    body = client.get("/api/products/?ordering=-id&page_size=1&search=sma").json()

    # Of the 20 demo products (products/demo.py), "Small Lamp 7" and "Smart Lamp 11" match.
    assert [p["name"] for p in body["results"]] == ["Smart Lamp 11"]
    assert body["count"] == 2


def test_pagination_links_point_at_the_gateway(client):
    body = client.get("/api/users/?page_size=5").json()

    assert body["next"] == "http://testserver/api/users/?page=2&page_size=5"


def test_an_unsupported_method_is_405_json_naming_the_allowed_methods(client):
    response = client.generic("TRACE", "/api/users/1/")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response["Allow"] == "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def test_create_patch_and_delete_pass_bodies_and_statuses_through(client):
    sku = f"GW-{uuid.uuid4().hex[:10]}"

    created = client.post(
        "/api/products/", json.dumps({"name": "Gateway lamp", "sku": sku, "price": "4.00"}), "application/json"
    )
    product_id = created.json()["id"]
    patched = client.patch(f"/api/products/{product_id}/", json.dumps({"stock": 9}), "application/json")
    deleted = client.delete(f"/api/products/{product_id}/")
    gone = client.get(f"/api/products/{product_id}/")

    assert (created.status_code, patched.status_code, deleted.status_code, gone.status_code) == (201, 200, 204, 404)
    assert patched.json()["stock"] == 9
    assert gone.json()["error"]["message"] == f"Product {product_id} does not exist."


def test_validation_errors_from_the_service_pass_through_unchanged(client):
    response = client.post("/api/products/", json.dumps({"name": "x", "sku": "N-1", "price": "-5"}), "application/json")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"price": ["Ensure this value is greater than or equal to 0."]}


def test_malformed_json_is_a_400_from_the_service(client):
    response = client.post("/api/users/", "{not json", "application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_oversized_bodies_are_refused_at_the_gateway(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = client.post("/api/users/", json.dumps({"full_name": "x" * 500}), "application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_options_returns_the_allow_header_of_the_service(client):
    response = client.options("/api/products/")

    assert response.status_code == 200
    assert response["Allow"] == "GET, POST, HEAD, OPTIONS"


@pytest.mark.parametrize(
    "path",
    ["/api/users/../admin/", "/api/users/%2e%2e/admin/", "/api/users/1%2F..%2F/", "/api/users//1/", "/api/users/.x/"],
)
def test_dot_segments_encoded_slashes_and_empty_segments_are_refused(client, path):
    response = client.get(path)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsafe_path"


def test_upstream_redirects_are_returned_not_followed(client, settings, redirecting_server):
    settings.USERS_SERVICE_URL = redirecting_server

    response = client.get("/api/users/")

    assert response.status_code == 302
    assert response["Location"] == "http://internal.example/secret"


def test_only_end_to_end_request_headers_are_forwarded_plus_the_service_credential_and_the_clients_host():
    request = RequestFactory().get(
        "/api/users/",
        HTTP_AUTHORIZATION="Token secret",
        HTTP_COOKIE="sessionid=abc",
        HTTP_CONNECTION="close",
        HTTP_IDEMPOTENCY_KEY="k-1",
        HTTP_ACCEPT="text/html",
    )
    headers = upstream_request_headers(
        request.META, request_id="req-12345678", client_id=42, host=request.get_host(), scheme=request.scheme
    )

    assert headers == {
        "Accept": "application/json",
        "X-Request-ID": "req-12345678",
        "X-Service-Token": "test-service-credential",
        "X-Client-ID": "42",
        "Idempotency-Key": "k-1",
        "Host": "testserver",
        "X-Forwarded-Proto": "http",
    }


def test_hop_by_hop_and_connection_named_response_headers_are_dropped():
    upstream = [
        ("Content-Type", "application/json"),
        ("Connection", "keep-alive, X-Internal"),
        ("X-Internal", "1"),
        ("Transfer-Encoding", "chunked"),
        ("Server", "gunicorn"),
        ("ETag", '"abc"'),
        ("Vary", "Accept"),
    ]

    assert returned_headers(upstream) == [("Content-Type", "application/json"), ("ETag", '"abc"'), ("Vary", "Accept")]
