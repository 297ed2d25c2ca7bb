"""App config for the product domain."""

from django.apps import AppConfig


class ProductsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "products"
    verbose_name = "Products"

    def ready(self):
        from . import signals  # noqa: F401  (connects the invalidation receivers)
