"""The seed_products management command."""

from io import StringIO

import pytest

from django.core.management import call_command

from products.models import Product

pytestmark = pytest.mark.django_db


def test_seed_products_twice_creates_each_demo_product_once():
    out = StringIO()
    call_command("seed_products", "--count", "3", stdout=out)
    call_command("seed_products", "--count", "3", stdout=out)

    assert Product.objects.count() == 3
    assert out.getvalue().splitlines() == ["products: 3 created, 3 ensured", "products: 0 created, 3 ensured"]
