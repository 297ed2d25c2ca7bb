"""The gateway's OpenAPI contract (apidocs.build): generated from its own views and the services' documents, the
committed file, public at /schema/, valid, and in step with the services and the access step."""

from pathlib import Path

import pytest
import yaml
from drf_spectacular.validation import validate_schema

from django.core.management import call_command
from django.urls import get_resolver

from access import routes
from apidocs import build

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "gateway_project" / "apidocs" / "gateway.yaml"
SERVICE_CONTRACTS = {"users": ROOT / "docs/openapi/users.yaml", "products": ROOT / "docs/openapi/products.yaml"}
REGENERATE = "./manage_all.sh openapi"
ERROR = {"$ref": "#/components/schemas/Error"}
PUBLIC = [("/api/auth/token/", "post")]


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    """The contract as `manage.py spectacular` generates it, validated against the OpenAPI 3 meta-schema."""
    path = tmp_path_factory.mktemp("openapi") / "gateway.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def service_contracts() -> dict:
    return {service: yaml.safe_load(path.read_text()) for service, path in SERVICE_CONTRACTS.items()}


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def resolve(document: dict, node: dict) -> dict:
    if "$ref" not in node:
        return node
    section, kind, name = node["$ref"].removeprefix("#/").split("/")
    return document[section][kind][name]


def test_the_committed_contract_is_what_the_code_generates(document):
    assert yaml.safe_load(CONTRACT.read_text()) == document, f"{CONTRACT.name} is stale; run: {REGENERATE}"


@pytest.mark.django_db
def test_the_contract_is_served_at_schema_without_a_token(anonymous):
    response = anonymous.get("/schema/")
    without_slash = anonymous.get("/schema")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.oai.openapi; charset=utf-8"
    assert response.content == CONTRACT.read_bytes()
    assert without_slash.status_code == 200


@pytest.mark.django_db
def test_the_contract_is_read_only(anonymous):
    response = anonymous.post("/schema/")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_the_contract_is_valid_openapi_3(document):
    validate_schema(document)

    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "API gateway"


def test_every_api_route_of_the_urlconf_is_documented(document):
    patterns = sorted(
        str(p.pattern) for p in get_resolver().url_patterns if str(p.pattern).startswith(("api/", "^api/"))
    )

    assert patterns == [
        "^api/(?P<service>users|products)(?P<rest>/.*)?$",
        "^api/(?P<user_id>[^/]+)/(?P<product_id>[^/]+)/?$",
        "^api/auth/token/?$",
        "api/",
        "api/docs/",
        "api/redoc/",
    ]
    assert sorted(document["paths"]) == [
        "/api/auth/token/",
        "/api/products/",
        "/api/products/{id}/",
        "/api/users/",
        "/api/users/{id}/",
        "/api/{user_id}/{product_id}/",
    ]


def test_the_proxied_operations_are_the_services_own(document, service_contracts):
    for contract in service_contracts.values():
        for path, item in contract["paths"].items():
            assert set(document["paths"][path]) == set(item), path
            for method, operation in item.items():
                mine = document["paths"][path][method]
                assert mine["operationId"] == operation["operationId"]
                assert mine.get("parameters") == operation.get("parameters")
                assert mine.get("requestBody") == operation.get("requestBody")
                for status, response in operation["responses"].items():
                    if status.startswith("2"):
                        assert mine["responses"][status].get("content") == response.get("content"), (path, status)
                # A non-staff session's 403 is the service's own; the gateway's 401 is for its tokens and sessions,
                # its 403 for a session's write without the CSRF token.
                assert set(mine["responses"]) >= set(operation["responses"]) - {"403"}, (method, path)


def test_the_services_schemas_are_copied_as_they_are(document, service_contracts):
    for contract in service_contracts.values():
        for name, schema in contract["components"]["schemas"].items():
            assert document["components"]["schemas"][name] == schema, name


def test_a_service_schema_that_clashes_with_another_fails_the_build(settings, tmp_path):
    clashing = yaml.safe_load(SERVICE_CONTRACTS["products"].read_text())
    clashing["components"]["schemas"]["Error"]["description"] = "Not the users service's Error."
    (tmp_path / "products.yaml").write_text(yaml.safe_dump(clashing))
    settings.SERVICE_CONTRACTS = {"users": SERVICE_CONTRACTS["users"], "products": tmp_path / "products.yaml"}

    with pytest.raises(ValueError, match="The schema Error of the products service differs"):
        build.postprocess({"openapi": "3.0.3", "paths": {}, "components": {}}, None, None, True)


@pytest.mark.parametrize(
    "template", ["/api/users/", "/api/products/", "/api/users/{id}/", "/api/{user_id}/{product_id}/"]
)
def test_the_access_step_canonicalises_queries_with_the_contracts_parameters(service_contracts, template):
    service = template.split("/")[2]
    contract = service_contracts.get(service, {"paths": {}})
    declared = contract["paths"].get(template, {}).get("get", {}).get("parameters", [])

    assert routes.query_parameters(template) == {p["name"] for p in declared if p["in"] == "query"}


def test_every_api_operation_needs_a_token_or_a_session_but_the_public_ones(document):
    schemes = document["components"]["securitySchemes"]

    assert schemes["ApiToken"] == {**schemes["ApiToken"], "type": "apiKey", "in": "header", "name": "Authorization"}
    assert schemes["SessionCookie"] == {
        **schemes["SessionCookie"],
        "type": "apiKey",
        "in": "cookie",
        "name": "sessionid",
    }
    assert document["security"] == [{"ApiToken": []}, {"SessionCookie": []}]
    assert [(path, method) for path, method, op in operations(document) if "security" in op] == PUBLIC
    assert all(op["security"] == [] for path, method, op in operations(document) if (path, method) in PUBLIC)


def test_every_operation_declares_401_and_429(document):
    for path, method, operation in operations(document):
        assert {"401", "429"} <= set(operation["responses"]), (path, method)


def test_every_upstream_call_declares_502_503_504(document):
    for path, method, operation in operations(document):
        calls_services = path.startswith(("/api/users/", "/api/products/", "/api/{user_id}/"))
        assert ({"502", "503", "504"} <= set(operation["responses"])) is calls_services, (path, method)


def test_a_sessions_writes_declare_the_csrf_403(document):
    for path, method, operation in operations(document):
        if method in ("post", "put", "patch", "delete") and (path, method) not in PUBLIC:
            assert operation["responses"]["403"] == {"$ref": "#/components/responses/CsrfFailed"}, (path, method)


def test_every_error_response_has_the_error_shape_and_every_response_a_request_id(document):
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            response = resolve(document, response)
            assert "X-Request-ID" in response.get("headers", {}) or status == "414", (path, method, status)
            if int(status) >= 400 and status != "414":
                assert response["content"]["application/json"]["schema"] == ERROR, (path, method, status)


def test_rate_limited_answers_carry_retry_after_and_successes_the_ratelimit_headers(document):
    headers = document["components"]["responses"]["RateLimited"]["headers"]
    listed = document["paths"]["/api/products/"]["get"]["responses"]["200"]["headers"]

    assert resolve(document, headers["Retry-After"])["required"] is True
    assert {"RateLimit", "RateLimit-Policy", "X-Request-ID"} <= set(headers)
    assert set(listed) == {"RateLimit", "RateLimit-Policy", "X-Request-ID"}


def test_the_aggregate_answers_a_user_and_a_product_of_the_services_shapes(document):
    operation = document["paths"]["/api/{user_id}/{product_id}/"]["get"]
    schema = resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])

    assert schema["properties"] == {
        "user": {"$ref": "#/components/schemas/UserOutput"},
        "product": {"$ref": "#/components/schemas/ProductOutput"},
    }
    assert [p["name"] for p in operation["parameters"]] == ["product_id", "user_id"]
    assert {p["schema"]["maximum"] for p in operation["parameters"]} == {999_999_999_999_999_999}
