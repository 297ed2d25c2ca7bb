"""The product domain's data: the catalogue."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

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

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class IdempotencyRecord(AbstractIdempotencyRecord):
    """Keyed writes of this service, replayed for IDEMPOTENCY_KEY_TTL_SECONDS."""
