"""The query plans of the product API at 100,000 products: every list, filter, search and ordering it offers
reads through an index, never with a sequential scan of the table (tests/support/plans.py)."""

from urllib.parse import quote

import pytest

from django.db import connection

from products.apis import ProductViewSet
from products.filters import ProductFilter
from products.models import Product
from products.services import product_seed
from support.plans import deep_cursor, indexes_used, loaded_table, plan_problems
from svc_common.filters import IndexedOrderingFilter

ROWS = 100_000
TABLE = "products_product"
# A value per filter of ProductFilter (a new filter without one fails below), chosen as a client would:
# a one-euro price band (about 100 products), one sku.
FILTERS = {"min_price": "540.00", "max_price": "540.99", "sku": "sku-050000"}
# A noun (one product in 50), a number (a handful), two words together.
SEARCHES = ["blender", "77777", "smart hammer"]
ORDERINGS = IndexedOrderingFilter().allowed_terms(ProductViewSet)
READS = [
    "/api/products/",
    "/api/products/?page=400",
    "/api/products/50000/",
    *(f"/api/products/?{name}={value}" for name, value in FILTERS.items()),
    "/api/products/?min_price=540.00&max_price=540.99",
    *(f"/api/products/?search={quote(term)}" for term in SEARCHES),
    *(f"/api/products/?ordering={term}" for term in ORDERINGS),
    "/api/products/?search=blender&ordering=-price",
    "/api/products/?min_price=540.00&max_price=540.99&ordering=-created_at",
]


@pytest.fixture(scope="module", autouse=True)
def catalogue(django_db_setup, django_db_blocker):
    with loaded_table(django_db_blocker, TABLE, lambda: product_seed(count=ROWS)):
        yield


def test_the_plan_cases_cover_every_filter_search_field_and_ordering_of_the_api():
    assert set(ProductFilter.base_filters) == set(FILTERS)
    assert ProductViewSet.search_fields == ["name"]
    assert len(ORDERINGS) == 2 * len(ProductViewSet.ordering_fields)


@pytest.mark.django_db
@pytest.mark.parametrize("url", READS)
def test_the_read_uses_an_index(api_client, url):
    assert plan_problems(api_client, url, TABLE) == []


@pytest.mark.django_db
@pytest.mark.parametrize("term", ORDERINGS)
def test_a_cursor_halfway_down_each_ordering_uses_an_index(api_client, term):
    url = "/api/products/?" + deep_cursor(Product, "/api/products/", term)

    assert plan_problems(api_client, url, TABLE) == []


@pytest.mark.django_db
@pytest.mark.parametrize("field", ProductViewSet.ordering_fields)
def test_each_ordering_walks_its_own_index(api_client, field):
    expected = "products_product_pkey" if field == "id" else f"product_{field}_id"

    assert expected in indexes_used(api_client, f"/api/products/?ordering=-{field}", TABLE)


@pytest.mark.django_db
def test_search_and_sku_use_the_trigram_and_upper_case_indexes(api_client):
    assert "product_name_upper_trgm" in indexes_used(api_client, "/api/products/?search=77777", TABLE)
    assert "product_sku_upper" in indexes_used(api_client, "/api/products/?sku=sku-050000", TABLE)


@pytest.mark.django_db
def test_the_check_fails_a_read_whose_index_is_missing_naming_the_query(api_client):
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX product_price_id")  # rolled back with the test's transaction

    problems = plan_problems(api_client, "/api/products/?ordering=-price", TABLE)

    assert len(problems) == 1
    assert problems[0].startswith('sequential scan of products_product in: SELECT "products_product"."id"')
    assert 'ORDER BY "products_product"."price" DESC, "products_product"."id" DESC LIMIT 21' in problems[0]
