"""The product service's OpenAPI schema: behind the service credential, accurate, and the committed contract."""

import re
from pathlib import Path

import pytest
import yaml

from django.core.management import call_command

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "openapi" / "products.yaml"
REGENERATE = "./manage_all.sh openapi"
PRICE = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    """The schema as `manage.py spectacular` generates it, validated against the OpenAPI 3 meta-schema."""
    path = tmp_path_factory.mktemp("openapi") / "products.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    return yaml.safe_load(path.read_text())


def test_the_committed_contract_is_what_the_code_generates(schema):
    assert yaml.safe_load(CONTRACT.read_text()) == schema, f"docs/openapi/products.yaml is stale; run: {REGENERATE}"


def test_the_schema_is_served_only_to_the_gateway_or_staff(api_client, db):
    anonymous = api_client.__class__().get("/api/schema/")
    forged = api_client.__class__().get("/api/schema/", HTTP_X_SERVICE_TOKEN="forged")
    served = api_client.get("/api/schema/")

    assert (anonymous.status_code, forged.status_code, served.status_code) == (401, 401, 200)
    assert yaml.safe_load(served.content)["info"]["title"] == "Product service API"


def test_the_request_body_states_the_models_limits(schema):
    body = schema["components"]["schemas"]["ProductInputRequest"]

    assert body["required"] == ["name", "price", "sku"]
    assert body["properties"] == {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "description": {"type": "string"},
        "sku": {"type": "string", "minLength": 1, "maxLength": 64},
        "price": {"type": "string", "format": "decimal", "pattern": PRICE},
        "stock": {"type": "integer", "minimum": 0, "maximum": 2_147_483_647},
    }
    assert schema["components"]["schemas"]["PatchedProductInputRequest"]["properties"] == body["properties"]


@pytest.mark.parametrize(
    "price, matches",
    [("0", True), ("19.99", True), ("9999999999.99", True), ("1.5", True), ("-1", False), ("1.234", False),
     ("12345678901", False), ("1e3", False), ("١٢", False), ("", False)],
)  # fmt: skip
def test_the_price_pattern_accepts_what_the_serializer_accepts(api_client, db, price, matches):
    response = api_client.post("/api/products/", {"name": "Lamp", "sku": f"P-{price!r}", "price": price}, format="json")

    assert bool(re.match(PRICE, price)) is matches
    if matches:
        assert response.status_code == 201


def test_ids_are_integers_from_1_to_18_digits(schema):
    for path, item in schema["paths"].items():
        for operation in item.values():
            if "{id}" in path:
                (parameter,) = [p for p in operation["parameters"] if p["in"] == "path"]
                assert parameter["schema"] == {"type": "integer", "minimum": 1, "maximum": 999_999_999_999_999_999}


def test_writes_and_reads_answer_with_the_output_shape_and_errors_with_the_error_shape(schema):
    item = schema["paths"]["/api/products/{id}/"]
    output = {"$ref": "#/components/schemas/ProductOutput"}
    error = {"$ref": "#/components/schemas/Error"}

    created = schema["paths"]["/api/products/"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == output
    for method in ("get", "put", "patch"):
        assert item[method]["responses"]["200"]["content"]["application/json"]["schema"] == output
    for method, operation in item.items():
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == error, (method, status)


def test_the_list_documents_its_filters_and_bounded_pages(schema):
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/products/"]["get"]["parameters"]}

    assert set(parameters) == {"cursor", "max_price", "min_price", "ordering", "page", "page_size", "search", "sku"}
    assert parameters["page_size"] == {"type": "integer", "minimum": 1, "maximum": 100}
    assert parameters["ordering"]["enum"] == [
        "id", "-id", "name", "-name", "price", "-price", "stock", "-stock", "created_at", "-created_at", "updated_at",
        "-updated_at",
    ]  # fmt: skip
    assert parameters["search"] == {"type": "string", "minLength": 3}


def test_a_list_page_may_lack_a_count_a_cursor_page_has_none(schema):
    page = schema["components"]["schemas"]["PaginatedProductOutputList"]

    assert page["required"] == ["results"]
    assert set(page["properties"]) == {"count", "count_estimated", "next", "previous", "results"}
