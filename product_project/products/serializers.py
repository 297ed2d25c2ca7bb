"""Input and output shapes of the product API."""

from decimal import Decimal

from rest_framework import serializers

from .models import Product


class ProductInputSerializer(serializers.ModelSerializer):
    """What a client may write: never id or timestamps."""

    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    stock = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)

    class Meta:
        model = Product
        fields = ["name", "description", "sku", "price", "stock"]


class ProductOutputSerializer(serializers.ModelSerializer):
    """What the API returns."""

    class Meta:
        model = Product
        fields = ["id", "name", "description", "sku", "price", "stock", "created_at", "updated_at"]
        read_only_fields = fields
