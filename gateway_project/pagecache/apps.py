"""App config for the gateway's page cache."""

from django.apps import AppConfig


class PagecacheConfig(AppConfig):
    name = "pagecache"
