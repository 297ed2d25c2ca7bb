"""The product domain's data: the catalogue."""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from svc_common.invalidation import InvalidatingQuerySet


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


class IdempotencyRecord(models.Model):
    """The outcome of a write sent with an Idempotency-Key, kept to replay it (svc_common.idempotency)."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="products_idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
