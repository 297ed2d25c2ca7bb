"""Writes of the product domain."""

from decimal import Decimal

from django.db import IntegrityError, transaction

from svc_common.bulk import seed
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


def product_seed(*, count: int, chunk: int = 100_000, progress=None) -> int:
    """Ensure demo products 1..N (products.demo) exist; returns how many were created (idempotent). One bulk load:
    generate_series on PostgreSQL, chunk by chunk, rows built in Python elsewhere; then ANALYZE and one
    invalidation (svc_common.bulk)."""
    return seed(Product, demo.PRODUCTS, collection="products", count=count, chunk=chunk, progress=progress)


def product_cache_invalidate(*, product_ids: list[int]) -> None:
    """Make cached copies of these objects, and of list pages, stale (here and at the gateway)."""
    invalidate(collection="products", object_ids=product_ids)


# import_products: rows checked by the API's own input fields, refused when their sku exists (svc_common.importing).
PRODUCT_IMPORT = ImportSpec(
    model=Product, serializer_class=ProductInputSerializer, keys=("sku",), collection="products"
)
