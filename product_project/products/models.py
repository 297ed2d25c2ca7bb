"""The product domain's data: the catalogue."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper

from svc_common.invalidation import InvalidatingQuerySet
from svc_common.models import AbstractIdempotencyRecord


class ProductQuerySet(InvalidatingQuerySet, models.QuerySet):
    invalidation_collection = "products"


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sku = models.CharField(max_length=64, unique=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    stock = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_non_negative"),
        ]
        # One btree per filter and ordering of the API, id last as the tie-breaker (svc_common.filters). The
        # trigram index that serves ?search= is PostgreSQL-only, so it lives in migration 0003 alone.
        indexes = [
            models.Index(Upper("sku"), name="product_sku_upper"),
            models.Index(fields=["name", "id"], name="product_name_id"),
            models.Index(fields=["price", "id"], name="product_price_id"),
            models.Index(fields=["stock", "id"], name="product_stock_id"),
            models.Index(fields=["created_at", "id"], name="product_created_at_id"),
            models.Index(fields=["updated_at", "id"], name="product_updated_at_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class IdempotencyRecord(AbstractIdempotencyRecord):
    """Keyed writes of this service, replayed for IDEMPOTENCY_KEY_TTL_SECONDS."""
