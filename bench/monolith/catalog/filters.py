"""The product list's filters, as the product service has them (products/filters.py)."""

import django_filters

from .models import Product


class ProductFilter(django_filters.FilterSet):
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte", max_digits=12, decimal_places=2)
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte", max_digits=12, decimal_places=2)
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")

    class Meta:
        model = Product
        fields = ["min_price", "max_price", "sku"]
