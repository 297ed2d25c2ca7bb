"""Django admin for products."""

from django.contrib import admin

from svc_common.pagination import EstimatedCountPaginator

from .models import Product


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "sku", "price", "stock", "updated_at"]
    list_filter = ["created_at"]
    # Trigram-indexed name, exact (index-backed) sku.
    search_fields = ["name", "=sku"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["id"]
    # No COUNT(*) of a large table on every page (svc_common.pagination).
    paginator = EstimatedCountPaginator
    show_full_result_count = False
