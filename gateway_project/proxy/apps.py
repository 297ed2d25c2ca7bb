"""App config for the pass-through proxy to the services."""

from django.apps import AppConfig


class ProxyConfig(AppConfig):
    name = "proxy"
