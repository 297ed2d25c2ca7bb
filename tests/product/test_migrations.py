"""Migrations of products: IdempotencyRecord on svc_common's abstract model keeps the table 0002 made; 0003
(search and ordering indexes) is built online on an existing PostgreSQL table and skipped by vendor on SQLite."""

from pathlib import Path

import pytest

from django.db import connection

from support.migrations import (
    indexes_around_a_migration,
    makemigrations_check,
    model_shape,
    on_sqlite,
    record_written_before_and_read_after,
    table_shape,
)

PROJECT = Path(__file__).resolve().parents[2] / "product_project"
INDEXES = {
    "product_name_upper_trgm",
    "product_sku_upper",
    "product_name_id",
    "product_price_id",
    "product_stock_id",
    "product_created_at_id",
    "product_updated_at_id",
}


@pytest.mark.django_db(transaction=True)
def test_the_indexes_are_built_on_an_existing_table_with_its_rows_kept():
    without, after, rows = indexes_around_a_migration(
        "products",
        "0002",
        "products_product",
        "INSERT INTO products_product (name, description, sku, price, stock, created_at, updated_at)"
        " SELECT 'Old lamp ' || i, '', 'OLD-' || i, i, i, now(), now() FROM generate_series(1, 500) i",
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'product_name_upper_trgm'::regclass")
        valid = cursor.fetchone()[0]
    assert without & INDEXES == set()
    assert after >= INDEXES
    assert (rows, valid) == (500, True)


SQLITE_SCRIPT = """
import json
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient
from products.services import product_seed

product_seed(count=30)
client = APIClient()
client.credentials(HTTP_X_SERVICE_TOKEN=settings.SERVICE_AUTH_TOKEN)
first = client.get("/api/products/?ordering=-price&page_size=4&cursor=").json()
second = client.get(first["next"]).json()
with connection.cursor() as cursor:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'products_product'")
    indexes = sorted(name for (name,) in cursor.fetchall() if not name.startswith("sqlite_autoindex"))
print(json.dumps({
    "list": client.get("/api/products/?page_size=5").json()["count"],
    "sku": [p["id"] for p in client.get("/api/products/?sku=sku-000007").json()["results"]],
    "cursor": [p["id"] for p in first["results"] + second["results"]],
    "expected": [p["id"] for p in client.get("/api/products/?ordering=-price&page_size=8").json()["results"]],
    "indexes": indexes,
}))
"""


def test_the_sqlite_fallback_migrates_without_the_postgresql_only_index_and_serves_lists(tmp_path):
    found = on_sqlite(PROJECT, "product_project.settings_test", SQLITE_SCRIPT, tmp_path)
    assert (found["list"], found["sku"]) == (30, [7])
    assert found["cursor"] == found["expected"]
    assert found["indexes"] == sorted(INDEXES - {"product_name_upper_trgm"})


@pytest.mark.django_db
def test_the_models_need_no_new_migration():
    assert makemigrations_check("products") == "No changes detected in app 'products'"


@pytest.mark.django_db
def test_the_model_keeps_the_table_its_columns_and_its_constraint_name():
    table, columns, constraints = table_shape("products")

    assert model_shape("products") == (table, columns, ["products_idempotency_scope_key"])
    assert constraints["products_idempotency_scope_key"] == (["scope", "key"], True)


@pytest.mark.django_db(transaction=True)
def test_a_record_written_before_the_upgrade_is_read_back_whole_after_it():
    written, read = record_written_before_and_read_after("products")

    assert read == written
