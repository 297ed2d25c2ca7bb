"""The user service's OpenAPI schema: behind the service credential, accurate, and the committed contract."""

from pathlib import Path

import pytest
import yaml

from django.core.management import call_command

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "users.yaml"
REGENERATE = "./manage_all.sh openapi"


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """The schema as `manage.py spectacular` generates it, validated against the OpenAPI 3 meta-schema."""
    path = tmp_path_factory.mktemp("openapi") / "users.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_committed_contract_is_what_the_code_generates(schema):
    assert yaml.safe_load(CONTRACT.read_text()) == schema, f"docs/openapi/users.yaml is stale; run: {REGENERATE}"


def test_the_schema_is_served_only_to_the_gateway_or_staff(api_client, db):
    anonymous = api_client.__class__().get("/api/schema/")
    served = api_client.get("/api/schema")

    assert anonymous.status_code == 401
    assert served.status_code == 200
    assert served["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(served.content)["info"]["title"] == "User service API"


def test_every_operation_needs_the_service_credential_an_api_key_header(schema):
    assert schema["components"]["securitySchemes"]["ServiceToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Service-Token",
        "description": "The credential the gateway presents (SERVICE_AUTH_TOKEN); nobody else holds it.",
    }
    for path, method, operation in operations(schema):
        assert operation["security"] == [{"ServiceToken": []}, {"cookieAuth": []}], (path, method)


def test_ids_are_integers_from_1_to_18_digits(schema):
    for path, _, operation in operations(schema):
        if "{id}" in path:
            (parameter,) = [p for p in operation["parameters"] if p["in"] == "path"]
            assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}


def test_the_request_body_states_the_models_limits(schema):
    body = schema["components"]["schemas"]["UserInputRequest"]

    assert body["required"] == ["email", "username"]
    assert body["properties"]["username"] == {
        "type": "string",
        "minLength": 1,
        "pattern": r"^[\w.@+-]+$",
        "maxLength": 150,
    }
    assert body["properties"]["email"] == {"type": "string", "format": "email", "minLength": 1, "maxLength": 254}
    assert body["properties"]["full_name"] == {"type": "string", "maxLength": 200}


def test_writes_answer_with_the_output_shape(schema):
    item = schema["paths"]["/api/users/{id}/"]

    created = schema["paths"]["/api/users/"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/UserOutput"}
    for method in ("put", "patch"):
        body = item[method]["responses"]["200"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/UserOutput"}


@pytest.mark.parametrize(
    "path, method, statuses",
    [
        ("/api/users/", "get", {"200", "400", "401", "403", "404", "414"}),
        ("/api/users/", "post", {"201", "400", "401", "403", "409", "413", "415"}),
        ("/api/users/{id}/", "get", {"200", "401", "403", "404"}),
        ("/api/users/{id}/", "put", {"200", "400", "401", "403", "404", "409", "413", "415"}),
        ("/api/users/{id}/", "patch", {"200", "400", "401", "403", "404", "409", "413", "415"}),
        ("/api/users/{id}/", "delete", {"204", "401", "403", "404"}),
    ],
)
def test_each_operation_declares_its_errors_in_the_error_shape(schema, path, method, statuses):
    responses = schema["paths"][path][method]["responses"]

    assert set(responses) == statuses
    for status in statuses - {"200", "201", "204", "414"}:
        assert responses[status]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["ErrorDetail"]["required"] == ["code", "detail", "message"]


def test_the_page_parameters_state_their_bounds(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/users/"]["get"]["parameters"]}

    assert parameters["page"] == {"type": "integer", "minimum": 1}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert set(parameters) == {"cursor", "email", "ordering", "page", "page_size", "search", "username"}


def test_orderings_are_the_indexed_ones_and_a_search_needs_three_characters(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/users/"]["get"]["parameters"]}

    assert parameters["ordering"]["enum"] == [
        "id", "-id", "username", "-username", "email", "-email", "created_at", "-created_at", "updated_at", "-updated_at"
    ]  # fmt: skip
    assert parameters["search"] == {"type": "string", "minLength": 3}
    assert parameters["cursor"] == {"type": "string"}
