"""App config for the monolith's users and products."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"

    def ready(self):
        from . import signals  # noqa: F401 (connects the receivers)
