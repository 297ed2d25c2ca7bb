"""Query-string filters of the product list."""

import django_filters

from .models import Product


class ProductFilter(django_filters.FilterSet):
    """Price range and exact sku."""

    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")

    class Meta:
        model = Product
        fields = ["min_price", "max_price", "sku"]
