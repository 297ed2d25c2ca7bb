"""Reads of the product domain."""

from django.db.models import QuerySet

from svc_common.invalidation import cached_detail

from .models import Product
from .serializers import ProductOutputSerializer

# Bump when ProductOutputSerializer's shape changes, so no replica reads an old shape from the cache.
DETAIL_CACHE_VERSION = 1


def product_list() -> QuerySet[Product]:
    """Every product, in a stable order for pagination."""
    return Product.objects.order_by("id")


def product_get(*, product_id: int) -> Product | None:
    """One product by id, or None."""
    return Product.objects.filter(pk=product_id).first()


def product_detail_get(*, product_id: int) -> dict | None:
    """One product as the API shows it, served from Redis after the first read."""

    def load():
        product = product_get(product_id=product_id)
        return ProductOutputSerializer(product).data if product is not None else None

    return cached_detail(collection="products", object_id=product_id, version=DETAIL_CACHE_VERSION, load=load)
