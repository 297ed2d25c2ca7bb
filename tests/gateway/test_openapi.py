"""The gateway's hand-written OpenAPI document: public at /schema/, valid, complete and in step with the services."""

from pathlib import Path

import pytest
import yaml
from drf_spectacular.validation import validate_schema

from django.urls import get_resolver

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "gateway_project" / "apidocs" / "openapi.yaml"
SERVICE_CONTRACTS = {"users": ROOT / "docs/openapi/users.yaml", "products": ROOT / "docs/openapi/products.yaml"}
SHARED_SCHEMAS = {
    "users": ["UserOutput", "UserInputRequest", "PatchedUserInputRequest", "PaginatedUserOutputList"],
    "products": ["ProductOutput", "ProductInputRequest", "PatchedProductInputRequest", "PaginatedProductOutputList"],
}
ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def resolve(document: dict, node: dict) -> dict:
    """Follow a local $ref (one level is all this document uses for responses)."""
    if "$ref" not in node:
        return node
    section, kind, name = node["$ref"].removeprefix("#/").split("/")
    return document[section][kind][name]


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation


def test_the_document_is_served_at_schema_without_a_token(anonymous):
    response = anonymous.get("/schema/")
    without_slash = anonymous.get("/schema")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert response.content == DOCUMENT.read_bytes()
    assert without_slash.status_code == 200


def test_the_document_is_read_only(anonymous):
    response = anonymous.post("/schema/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_document_is_valid_openapi_3(document):
    validate_schema(document)

    assert document["openapi"] == "3.0.3"


def test_every_api_route_of_the_urlconf_is_documented(document):
    routes = sorted(str(pattern.pattern) for pattern in get_resolver().url_patterns if "api/" in str(pattern.pattern))

    assert routes == [
        "^api/(?P<service>users|products)(?P<rest>/.*)?$",
        "^api/(?P<user_id>[^/]+)/(?P<product_id>[^/]+)/?$",
        "^api/auth/token/?$",
    ]
    assert sorted(document["paths"]) == [
        "/api/auth/token/",
        "/api/products/",
        "/api/products/{id}/",
        "/api/users/",
        "/api/users/{id}/",
        "/api/{user_id}/{product_id}/",
    ]


def test_the_proxied_operations_are_the_services_own(document):
    for contract_path in SERVICE_CONTRACTS.values():
        contract = yaml.safe_load(contract_path.read_text())
        for path, item in contract["paths"].items():
            assert {m for m in document["paths"][path] if m != "parameters"} == set(item), path
            for method, operation in item.items():
                mine = document["paths"][path][method]
                assert mine["operationId"] == operation["operationId"]
                assert mine.get("requestBody", {}).get("content") == operation.get("requestBody", {}).get("content")
                # The gateway adds its own errors; 403 (a non-staff session) cannot happen through it.
                assert set(mine["responses"]) >= set(operation["responses"]) - {"403"}, (method, path)


def test_the_shared_schemas_equal_the_services_contracts(document):
    for service, names in SHARED_SCHEMAS.items():
        contract = yaml.safe_load(SERVICE_CONTRACTS[service].read_text())["components"]["schemas"]
        for name in [*names, "Error", "ErrorDetail"]:
            assert document["components"]["schemas"][name] == contract[name], name


def test_the_query_parameters_of_the_lists_equal_the_services(document):
    for service, contract_path in SERVICE_CONTRACTS.items():
        contract = yaml.safe_load(contract_path.read_text())
        theirs = {p["name"]: p["schema"] for p in contract["paths"][f"/api/{service}/"]["get"]["parameters"]}
        mine = {
            resolve(document, p)["name"]: resolve(document, p)["schema"]
            for p in document["paths"][f"/api/{service}/"]["get"]["parameters"]
        }
        assert mine == theirs, service


def test_ids_are_integers_from_1_to_18_digits(document):
    assert document["components"]["schemas"]["Id"] == {"type": "integer", "minimum": 1, "maximum": 999999999999999999}
    for path, _, operation in operations(document):
        parameters = [*document["paths"][path].get("parameters", []), *operation.get("parameters", [])]
        for parameter in map(lambda p: resolve(document, p), parameters):
            if parameter["in"] == "path":
                assert parameter["schema"] == {"$ref": "#/components/schemas/Id"}, (path, parameter["name"])


def test_every_api_operation_needs_the_token_header_except_token_creation(document):
    assert document["components"]["securitySchemes"]["ApiToken"]["type"] == "apiKey"
    assert document["components"]["securitySchemes"]["ApiToken"]["in"] == "header"
    assert document["components"]["securitySchemes"]["ApiToken"]["name"] == "Authorization"
    assert document["security"] == [{"ApiToken": []}]
    unauthenticated = [(path, method) for path, method, op in operations(document) if op.get("security") == []]
    assert unauthenticated == [("/api/auth/token/", "post")]


def test_every_operation_declares_401_and_429_and_every_upstream_call_502_503_504(document):
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert {"401", "429"} <= set(responses), (path, method)
        if path != "/api/auth/token/":
            assert {"502", "503", "504"} <= set(responses), (path, method)


def test_every_error_response_has_the_error_shape(document):
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            if int(status) >= 400 and status != "414":
                assert response["content"]["application/json"]["schema"] == ERROR, (path, method, status)


def test_rate_limited_answers_carry_retry_after(document):
    headers = document["components"]["responses"]["RateLimited"]["headers"]

    assert resolve(document, headers["Retry-After"])["required"] is True
    assert {"RateLimit", "RateLimit-Policy", "X-Request-ID"} <= set(headers)
