"""The product API over DRF: CRUD, filters, pagination and bad input."""

from decimal import Decimal

import pytest

from products.models import Product

pytestmark = pytest.mark.django_db


def test_create_returns_201_with_price_as_a_two_place_string(api_client):
    response = api_client.post(
        "/api/products/", {"name": "Lamp", "sku": "L-1", "price": "12.5", "stock": 2}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["sku"], body["price"], body["stock"], body["description"]) == (
        "Lamp",
        "L-1",
        "12.50",
        2,
        "",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "-1", "Ensure this value is greater than or equal to 0."),
        ("price", "1.999", "Ensure that there are no more than 2 decimal places."),
        ("price", "abc", "A valid number is required."),
        ("stock", -1, "Ensure this value is greater than or equal to 0."),
        ("stock", "many", "A valid integer is required."),
    ],
)
def test_invalid_price_or_stock_is_400_naming_the_field(api_client, field, value, message):
    payload = {"name": "Lamp", "sku": "L-1", "price": "1.00", "stock": 1, field: value}

    response = api_client.post("/api/products/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {field: [message]}
    assert Product.objects.count() == 0


def test_duplicate_sku_is_400_and_nothing_saved(api_client, make_product):
    make_product(sku="L-1")

    response = api_client.post("/api/products/", {"name": "x", "sku": "L-1", "price": "1.00"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"sku": ["product with this sku already exists."]}
    assert Product.objects.count() == 1


def test_price_range_filter_search_and_ordering(api_client, make_product):
    make_product(name="Cheap lamp", price=Decimal("5.00"))
    make_product(name="Mid lamp", price=Decimal("50.00"))
    make_product(name="Dear lamp", price=Decimal("500.00"))
    make_product(name="Mid chair", price=Decimal("60.00"))

    in_range = api_client.get("/api/products/?min_price=10&max_price=100&ordering=-price").json()
    searched = api_client.get("/api/products/?search=lamp&ordering=price").json()

    assert [p["name"] for p in in_range["results"]] == ["Mid chair", "Mid lamp"]
    assert [p["name"] for p in searched["results"]] == ["Cheap lamp", "Mid lamp", "Dear lamp"]


def test_a_non_numeric_price_filter_is_400(api_client):
    response = api_client.get("/api/products/?min_price=cheap")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"min_price": ["Enter a number."]}


@pytest.mark.parametrize(
    "query, message",
    [
        ("max_price=-1e-99999", "Ensure that there are no more than 12 digits in total."),
        ("min_price=1e30", "Ensure that there are no more than 12 digits in total."),
        ("min_price=0.001", "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_a_price_filter_beyond_the_columns_precision_is_400_not_a_database_error(api_client, query, message):
    response = api_client.get(f"/api/products/?{query}")

    assert response.status_code == 400
    assert list(response.json()["error"]["detail"].values()) == [[message]]


def test_patch_updates_the_price_and_put_needs_every_required_field(api_client, make_product):
    product = make_product(price=Decimal("1.00"))

    patch = api_client.patch(f"/api/products/{product.pk}/", {"price": "3.25"}, format="json")
    put = api_client.put(f"/api/products/{product.pk}/", {"name": "Only name"}, format="json")

    assert patch.json()["price"] == "3.25"
    assert put.status_code == 400
    assert set(put.json()["error"]["detail"]) == {"sku", "price"}
    product.refresh_from_db()
    assert product.price == Decimal("3.25")


def test_a_body_nested_too_deeply_for_the_json_decoder_is_400_not_500(api_client):
    response = api_client.generic("POST", "/api/products/", '{"a":' * 10_000 + "1" + "}" * 10_000, "application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_unknown_product_is_a_json_404(api_client):
    response = api_client.get("/api/products/31337/")

    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Product 31337 does not exist."


def test_delete_is_204(api_client, make_product):
    product = make_product()

    assert api_client.delete(f"/api/products/{product.pk}").status_code == 204
    assert Product.objects.count() == 0


def test_page_beyond_the_last_is_a_json_404(api_client, make_product):
    make_product()

    response = api_client.get("/api/products/?page=9")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
