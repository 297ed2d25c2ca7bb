"""App config: svc_common ships management commands and abstract models, never a table of its own."""

from django.apps import AppConfig


class SvcCommonConfig(AppConfig):
    name = "svc_common"
    verbose_name = "Shared service code"
