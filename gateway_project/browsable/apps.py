"""App config for DRF's browsable API at the gateway."""

from django.apps import AppConfig


class BrowsableConfig(AppConfig):
    name = "browsable"
    verbose_name = "Browsable API"
