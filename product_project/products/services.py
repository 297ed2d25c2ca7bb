"""Writes of the product domain."""

from decimal import Decimal

from django.db import IntegrityError, transaction

from svc_common.bulk import TableLoad, is_postgresql, table_rows
from svc_common.exceptions import Conflict
from svc_common.importing import ImportSpec
from svc_common.invalidation import invalidate

from . import demo
from .models import Product
from .serializers import ProductInputSerializer


def product_create(*, name: str, sku: str, price: Decimal, description: str = "", stock: int = 0) -> Product:
    """Create a product; a concurrent duplicate sku becomes a 409, not a 500."""
    try:
        with transaction.atomic():
            return Product.objects.create(name=name, sku=sku, price=price, description=description, stock=stock)
    except IntegrityError as exc:
        raise Conflict("A product with this sku already exists.") from exc


def product_update(*, product: Product, **fields) -> Product:
    """Apply the given fields to a product and save only those."""
    for name, value in fields.items():
        setattr(product, name, value)
    try:
        with transaction.atomic():
            product.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        raise Conflict("A product with this sku already exists.") from exc
    return product


def product_delete(*, product: Product) -> None:
    """Delete a product."""
    product.delete()


def product_seed(*, count: int, chunk: int = 100_000, progress=lambda rows: None) -> int:
    """Ensure demo products 1..N (products.demo) exist; returns how many were created (idempotent).

    One bulk load (svc_common.bulk): generate_series on PostgreSQL, chunk by chunk, else rows built in Python;
    then ANALYZE and one invalidation."""
    with TableLoad(Product, collection="products", rows_expected=count - table_rows(Product)) as load:
        created = 0
        for first in range(1, count + 1, chunk):
            last = min(first + chunk - 1, count)
            if is_postgresql(Product):
                words = {"adjectives": list(demo.ADJECTIVES), "nouns": list(demo.NOUNS), "count": count}
                params = {**words, "first": first, "last": last}
                # ON CONFLICT costs a speculative insertion per row (4x the time): only where some rows exist.
                existing = load.scalar(demo.EXISTING_SQL, params)
                if existing < last - first + 1:
                    created += load.execute(demo.SEED_SQL + (demo.ONLY_MISSING_SQL if existing else ""), params)
            else:
                created += len(load.insert([demo.demo_product(i) for i in range(first, last + 1)], key="sku"))
            progress(last - first + 1)
    return created


def product_cache_invalidate(*, product_ids: list[int]) -> None:
    """Make cached copies of these objects, and of list pages, stale (here and at the gateway)."""
    invalidate(collection="products", object_ids=product_ids)


# import_products: rows checked by the API's own input fields, refused when their sku exists (svc_common.importing).
PRODUCT_IMPORT = ImportSpec(
    model=Product, serializer_class=ProductInputSerializer, keys=("sku",), collection="products"
)
