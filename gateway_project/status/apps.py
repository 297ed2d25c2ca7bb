"""App config for the operators' view: the status page and the gateway-only metrics."""

from django.apps import AppConfig


class StatusConfig(AppConfig):
    name = "status"
    verbose_name = "Operators' status"
