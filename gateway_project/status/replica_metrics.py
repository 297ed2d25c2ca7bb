"""A replica's /metrics, reduced to the sums the status page shows."""

from collections import Counter
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

HEALTH_ROUTES = frozenset({"healthz", "readyz"})


@dataclass
class ReplicaMetrics:
    requests: int = 0  # answered requests, health checks excepted
    errors_5xx: int = 0
    cache: Counter = field(default_factory=Counter)  # hit / miss / stale / other
    rate_limited: Counter = field(default_factory=Counter)  # by group
    dependencies: dict[str, bool] = field(default_factory=dict)  # database / cache → up


def summarize(text: str) -> ReplicaMetrics:
    """Sum the request, cache, rate-limit and dependency series of a Prometheus text exposition."""
    summary = ReplicaMetrics()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels, value = sample.labels, sample.value
            if sample.name == "django_http_requests_total" and labels.get("route") not in HEALTH_ROUTES:
                summary.requests += int(value)
                if labels.get("status", "").startswith("5"):
                    summary.errors_5xx += int(value)
            elif sample.name == "django_http_cache_results_total":
                summary.cache[labels["result"]] += int(value)
            elif sample.name == "gateway_rate_limited_total":
                summary.rate_limited[labels["group"]] += int(value)
            elif sample.name == "service_dependency_up":
                summary.dependencies[labels["dependency"]] = value == 1.0
    return summary


def fetch(address: str, timeout: float) -> ReplicaMetrics | None:
    """Scrape http://<address>/metrics; None when the replica does not answer in time."""
    try:
        response = httpx.get(f"http://{address}/metrics", timeout=timeout, trust_env=False)
        response.raise_for_status()
    except httpx.HTTPError:
        return None
    return summarize(response.text)
