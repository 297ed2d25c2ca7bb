"""Writes of the product domain."""

from decimal import Decimal

from django.db import IntegrityError, transaction

from svc_common.exceptions import Conflict
from svc_common.invalidation import invalidate

from .models import Product


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


def product_seed(*, count: int) -> int:
    """Ensure demo products SKU-000001..N exist; returns how many were created (idempotent)."""
    existing = set(Product.objects.filter(sku__startswith="SKU-").values_list("sku", flat=True))
    missing = [
        Product(
            name=f"Product_{i}",
            sku=f"SKU-{i:06d}",
            description=f"Demo product number {i}.",
            price=Decimal("19.99"),
            stock=100,
        )
        for i in range(1, count + 1)
        if f"SKU-{i:06d}" not in existing
    ]
    Product.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
    return len(missing)


def product_cache_invalidate(*, product_ids: list[int]) -> None:
    """Make cached copies of these objects, and of list pages, stale (here and at the gateway)."""
    invalidate(collection="products", object_ids=product_ids)
