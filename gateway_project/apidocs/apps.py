"""App config for the gateway's API description."""

from django.apps import AppConfig


class ApidocsConfig(AppConfig):
    name = "apidocs"
    verbose_name = "API description"
