"""Output shapes: the same fields the user and product services return."""

from rest_framework import serializers

from .models import Product, UserProfile


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = UserProfile
        fields = ["id", "username", "email", "full_name", "created_at", "updated_at"]
        read_only_fields = fields


class ProductOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "description", "sku", "price", "stock", "created_at", "updated_at"]
        read_only_fields = fields


class ProductPatchSerializer(serializers.ModelSerializer):
    """What the mixed workload writes: a product's stock or price."""

    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    stock = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False)

    class Meta:
        model = Product
        fields = ["price", "stock"]
