"""Fixtures for the product service's tests (settings: product_project.settings_test)."""

import itertools
from decimal import Decimal

import pytest
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from products.models import Product

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty Redis database of this suite's own."""
    get_redis_connection("default").flushdb()


@pytest.fixture
def api_client(settings):
    """A client calling as the gateway does: with the service credential."""
    client = APIClient()
    client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_AUTH_TOKEN)
    return client


@pytest.fixture
def make_product(db):
    """Factory: a saved product with unique defaults."""

    def make(**overrides):
        n = next(_sequence)
        fields = {"name": f"Thing {n}", "sku": f"T-{n:05d}", "price": Decimal("10.00"), "stock": 5}
        fields.update(overrides)
        return Product.objects.create(**fields)

    return make
