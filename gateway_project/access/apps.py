"""App config for the access step: token check, rate limit and page-cache lookup, before any view."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"

    def ready(self):
        from django.test.signals import setting_changed

        from .answers import forget_outer_headers

        setting_changed.connect(forget_outer_headers)
