"""Reads of the product domain."""

from django.db.models import QuerySet

from .models import Product


def product_list() -> QuerySet[Product]:
    """Every product, in a stable order for pagination."""
    return Product.objects.order_by("id")


def product_get(*, product_id: int) -> Product | None:
    """One product by id, or None."""
    return Product.objects.filter(pk=product_id).first()
