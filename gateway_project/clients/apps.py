"""App config for API clients and their tokens."""

from django.apps import AppConfig


class ClientsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clients"
    verbose_name = "API clients"

    def ready(self):
        from . import signals  # noqa: F401 (connects the receivers)
