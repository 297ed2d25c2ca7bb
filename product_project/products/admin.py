"""Django admin for products."""

from django.contrib import admin

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "sku", "price", "stock", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "sku"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["id"]
