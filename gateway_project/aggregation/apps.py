"""App config for aggregated reads."""

from django.apps import AppConfig


class AggregationConfig(AppConfig):
    name = "aggregation"
