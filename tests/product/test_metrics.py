"""The product service's /metrics: Prometheus text, requests by route, dependency gauges."""

import pytest
from prometheus_client import REGISTRY

from django.test import Client

pytestmark = pytest.mark.django_db


def test_product_reads_and_writes_are_counted_by_route_method_and_status(api_client, make_product):
    product = make_product()
    labels = {"route": "product-detail", "method": "PATCH", "status": "200"}
    names = ("django_http_requests_total", "django_http_request_duration_seconds_count")
    before = [REGISTRY.get_sample_value(name, labels) or 0.0 for name in names]

    api_client.patch(f"/api/products/{product.pk}/", {"stock": 9}, format="json")

    assert [REGISTRY.get_sample_value(name, labels) for name in names] == [count + 1 for count in before]


def test_metrics_reports_the_database_and_the_cache_up_and_answers_any_host_header():
    response = Client(HTTP_HOST="10.9.8.7:8000").get("/metrics")

    text = response.content.decode()
    assert response.status_code == 200
    assert 'service_dependency_up{dependency="database"} 1.0' in text
    assert 'service_dependency_up{dependency="cache"} 1.0' in text
    assert 'service_dependency_probe_seconds{dependency="database"}' in text


def test_metrics_refuses_an_outside_client_even_through_a_trusted_proxy():
    response = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.20").get("/metrics")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
