"""App config for the gateway's upstream HTTP client."""

from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    name = "upstream"

    def ready(self):
        from django.test.signals import setting_changed

        from .clients import reset_on_setting_change

        setting_changed.connect(reset_on_setting_change)
