"""App config: svc_common ships management commands, never models."""

from django.apps import AppConfig


class SvcCommonConfig(AppConfig):
    name = "svc_common"
    verbose_name = "Shared service code"
