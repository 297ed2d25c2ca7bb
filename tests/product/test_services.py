"""products.services: writes of the product domain."""

from decimal import Decimal

import pytest

from django.db import IntegrityError

from products.models import Product
from products.services import product_create, product_delete, product_seed, product_update
from svc_common.exceptions import Conflict

pytestmark = pytest.mark.django_db


def test_product_create_stores_every_field():
    product = product_create(name="Lamp", sku="L-1", price=Decimal("12.50"), description="Bright", stock=3)

    stored = Product.objects.get(pk=product.pk)
    assert (stored.name, stored.sku, stored.price, stored.description, stored.stock) == (
        "Lamp",
        "L-1",
        Decimal("12.50"),
        "Bright",
        3,
    )


def test_product_create_with_a_taken_sku_raises_conflict_and_saves_nothing(make_product):
    make_product(sku="L-1")

    with pytest.raises(Conflict):
        product_create(name="Other", sku="L-1", price=Decimal("1.00"))

    assert Product.objects.count() == 1


def test_the_database_itself_refuses_a_negative_price():
    with pytest.raises(IntegrityError):
        Product.objects.create(name="Bad", sku="B-1", price=Decimal("-0.01"))


def test_product_update_changes_only_the_given_fields(make_product):
    product = make_product(name="Lamp", price=Decimal("1.00"))

    product_update(product=product, price=Decimal("2.00"))

    product.refresh_from_db()
    assert (product.name, product.price) == ("Lamp", Decimal("2.00"))


def test_product_delete_removes_the_row(make_product):
    product = make_product()

    product_delete(product=product)

    assert not Product.objects.filter(pk=product.pk).exists()


def test_product_seed_is_idempotent():
    assert product_seed(count=4) == 4
    assert product_seed(count=4) == 0
    assert list(Product.objects.values_list("sku", flat=True)) == [f"SKU-{i:06d}" for i in range(1, 5)]
