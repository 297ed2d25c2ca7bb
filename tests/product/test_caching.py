"""The product object cache: served from Redis after the first read, fresh after every kind of write."""

from decimal import Decimal

import pytest
from django_redis import get_redis_connection

from django.contrib.auth import get_user_model
from django.core.management import call_command

from products import selectors
from products.models import Product
from products.services import product_update
from svc_common.breaker import redis_breaker

pytestmark = pytest.mark.django_db


def test_a_retrieve_is_served_from_redis_after_the_first_read(api_client, make_product, django_assert_num_queries):
    product = make_product(name="Cached")
    first = api_client.get(f"/api/products/{product.pk}/")

    with django_assert_num_queries(0):
        second = api_client.get(f"/api/products/{product.pk}/")

    assert first.json() == second.json()
    assert second.json()["name"] == "Cached"


def test_an_api_patch_is_visible_on_the_next_read(api_client, make_product, django_capture_on_commit_callbacks):
    product = make_product(price=Decimal("1.00"))
    api_client.get(f"/api/products/{product.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        api_client.patch(f"/api/products/{product.pk}/", {"price": "2.50"}, format="json")

    assert api_client.get(f"/api/products/{product.pk}/").json()["price"] == "2.50"


def test_an_admin_edit_is_visible_on_the_next_read(
    api_client, client, make_product, django_capture_on_commit_callbacks
):
    product = make_product(name="Before", sku="ADM-1", price=Decimal("1.00"), stock=1)
    api_client.get(f"/api/products/{product.pk}/")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/products/product/{product.pk}/change/",
            {"name": "After", "description": "", "sku": "ADM-1", "price": "1.00", "stock": "1"},
        )

    assert response.status_code == 302
    assert api_client.get(f"/api/products/{product.pk}/").json()["name"] == "After"


def test_a_bulk_queryset_update_is_visible_on_the_next_read(
    api_client, make_product, django_capture_on_commit_callbacks
):
    products = [make_product(stock=1), make_product(stock=1)]
    for product in products:
        api_client.get(f"/api/products/{product.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        Product.objects.filter(pk__in=[p.pk for p in products]).update(stock=0)

    assert [api_client.get(f"/api/products/{p.pk}/").json()["stock"] for p in products] == [0, 0]


def test_a_service_write_and_a_management_command_move_the_published_counters(
    make_product, django_capture_on_commit_callbacks
):
    redis = get_redis_connection("default")
    product = make_product()
    before = (int(redis.get(f"inv:products:{product.pk}") or 0), int(redis.get("inv:products:*") or 0))

    with django_capture_on_commit_callbacks(execute=True):
        product_update(product=product, stock=7)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_products", "--count", "2", stdout=None)

    after = (int(redis.get(f"inv:products:{product.pk}")), int(redis.get("inv:products:*")))
    assert after[0] == before[0] + 1
    assert after[1] >= before[1] + 2


def test_a_new_cache_version_never_reads_the_old_shape(
    api_client, make_product, monkeypatch, django_assert_num_queries
):
    product = make_product()
    api_client.get(f"/api/products/{product.pk}/")
    monkeypatch.setattr(selectors, "DETAIL_CACHE_VERSION", selectors.DETAIL_CACHE_VERSION + 1)

    with django_assert_num_queries(1):
        api_client.get(f"/api/products/{product.pk}/")


def test_with_redis_unreachable_a_retrieve_is_still_answered_from_the_database(api_client, make_product, settings):
    product = make_product(name="Still here")
    caches = {**settings.CACHES}
    caches["default"] = {**caches["default"], "LOCATION": "redis://127.0.0.1:1/0"}
    settings.CACHES = caches
    try:
        responses = [api_client.get(f"/api/products/{product.pk}/") for _ in range(3)]
    finally:
        redis_breaker._open_until = 0.0

    assert [(r.status_code, r.json()["name"]) for r in responses] == [(200, "Still here")] * 3


def test_a_missing_product_is_not_cached(api_client, make_product, django_assert_num_queries):
    api_client.get("/api/products/777777/")

    with django_assert_num_queries(1):
        assert api_client.get("/api/products/777777/").status_code == 404
