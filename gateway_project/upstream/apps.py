"""App config for the gateway's upstream HTTP client."""

from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    name = "upstream"
