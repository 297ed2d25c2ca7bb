"""App config for distributed rate limiting."""

from django.apps import AppConfig


class RatelimitConfig(AppConfig):
    name = "ratelimit"
