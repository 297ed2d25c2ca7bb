"""Users and products side by side: the same fields as the two services' models."""

from decimal import Decimal

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper


def trigram(field: str, name: str) -> GinIndex:
    return GinIndex(OpClass(Upper(field), name="gin_trgm_ops"), name=name)


class UserProfile(models.Model):
    username = models.CharField(max_length=150, unique=True)
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # The services' indexes (their migrations 0003): a team keeping the monolith would add the same.
        indexes = [
            trigram("username", "catalog_user_username_trgm"),
            trigram("email", "catalog_user_email_trgm"),
            trigram("full_name", "catalog_user_full_name_trgm"),
            models.Index(Upper("username"), name="catalog_user_username_upper"),
            models.Index(Upper("email"), name="catalog_user_email_upper"),
            models.Index(fields=["created_at", "id"], name="catalog_user_created_at_id"),
            models.Index(fields=["updated_at", "id"], name="catalog_user_updated_at_id"),
        ]

    def __str__(self) -> str:
        return self.username


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sku = models.CharField(max_length=64, unique=True)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    stock = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            trigram("name", "catalog_product_name_trgm"),
            models.Index(Upper("sku"), name="catalog_product_sku_upper"),
            models.Index(fields=["name", "id"], name="catalog_product_name_id"),
            models.Index(fields=["price", "id"], name="catalog_product_price_id"),
            models.Index(fields=["stock", "id"], name="catalog_product_stock_id"),
            models.Index(fields=["created_at", "id"], name="catalog_product_created_at_id"),
            models.Index(fields=["updated_at", "id"], name="catalog_product_updated_at_id"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"
