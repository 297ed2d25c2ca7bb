"""Indexes for every filter, ordering and search of the product API, built without blocking writes.

pg_trgm's GIN index serves `?search=` (DRF's icontains, `UPPER(name) LIKE UPPER('%term%')`) on PostgreSQL;
the SQLite fallback skips it. The btree indexes serve the sku filter and each ordering, id as tie-breaker.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models
from django.db.models.functions import Upper

from svc_common.index_operations import AddIndexOnline, AddPostgresIndex


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("products", "0002_idempotency_record"),
    ]

    operations = [
        TrigramExtension(),
        AddPostgresIndex(
            "product", GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="product_name_upper_trgm")
        ),
        AddIndexOnline("product", models.Index(Upper("sku"), name="product_sku_upper")),
        AddIndexOnline("product", models.Index(fields=["name", "id"], name="product_name_id")),
        AddIndexOnline("product", models.Index(fields=["price", "id"], name="product_price_id")),
        AddIndexOnline("product", models.Index(fields=["stock", "id"], name="product_stock_id")),
        AddIndexOnline("product", models.Index(fields=["created_at", "id"], name="product_created_at_id")),
        AddIndexOnline("product", models.Index(fields=["updated_at", "id"], name="product_updated_at_id")),
    ]
