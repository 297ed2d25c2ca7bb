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
