"""App config for the monolith's users and products."""

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
