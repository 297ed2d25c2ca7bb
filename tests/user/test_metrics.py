"""The user service's operators' view: /metrics, the request log line, and unhandled errors."""

import json
import logging

import pytest
from prometheus_client import REGISTRY
from rest_framework.views import APIView

from django.test import Client, override_settings
from django.urls import path

from svc_common.logging import JsonFormatter

pytestmark = pytest.mark.django_db


def plain_view_that_breaks(request):
    raise RuntimeError("secret detail of a plain view")


class ApiViewThatBreaks(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        raise RuntimeError("secret detail of an API view")


# ROOT_URLCONF for the error tests: this module.
urlpatterns = [
    path("broken/plain/", plain_view_that_breaks, name="broken-plain"),
    path("broken/api/", ApiViewThatBreaks.as_view(), name="broken-api"),
]


def requests_total(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("django_http_requests_total", labels) or 0.0


def test_metrics_is_prometheus_text_with_the_database_and_cache_up_and_needs_no_credential():
    response = Client().get("/metrics")

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE django_http_requests_total counter" in text
    assert "# TYPE django_http_request_duration_seconds histogram" in text
    assert 'service_dependency_up{dependency="database"} 1.0' in text
    assert 'service_dependency_up{dependency="cache"} 1.0' in text


def test_metrics_is_refused_outside_the_monitoring_networks():
    response = Client(REMOTE_ADDR="203.0.113.9").get("/metrics")

    assert response.status_code == 403
    assert response.json() == {
        "error": {
            "code": "permission_denied",
            "message": "Metrics are served to the monitoring network only.",
            "detail": None,
        }
    }


def test_a_request_is_counted_by_route_name_method_and_status_never_by_path(api_client, make_user):
    user = make_user()
    before = requests_total("user-detail", "GET", "200")

    api_client.get(f"/api/users/{user.pk}/")
    api_client.get("/api/users/999999/")

    text = Client().get("/metrics").content.decode()
    assert requests_total("user-detail", "GET", "200") == before + 1
    assert requests_total("user-detail", "GET", "404") >= 1
    assert f"/api/users/{user.pk}/" not in text
    assert 'route="user-detail"' in text


def test_an_unknown_method_is_counted_as_other_so_labels_stay_bounded():
    before = requests_total("unmatched", "other", "404")

    Client().generic("BREW", "/no/such/path/")

    assert requests_total("unmatched", "other", "404") == before + 1


def test_the_request_log_line_names_the_route_the_client_and_the_replica(api_client, make_user, caplog):
    user = make_user()
    caplog.set_level(logging.INFO, logger="svc_common.request")

    api_client.get(f"/api/users/{user.pk}/", HTTP_X_CLIENT_ID="7", HTTP_X_REQUEST_ID="trace-user-line-0001")

    [record] = [r for r in caplog.records if r.name == "svc_common.request"]
    line = json.loads(JsonFormatter().format(record))
    assert {key: line[key] for key in ("level", "request_id", "method", "path", "route", "status", "client_id")} == {
        "level": "INFO",
        "request_id": "trace-user-line-0001",
        "method": "GET",
        "path": f"/api/users/{user.pk}/",
        "route": "user-detail",
        "status": 200,
        "client_id": 7,
    }
    assert line["replica"]
    assert line["duration_ms"] >= 0
    assert "X-Service-Token" not in json.dumps(line)


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("path", "route", "secret"),
    [
        ("/broken/plain/", "broken-plain", "secret detail of a plain view"),
        ("/broken/api/", "broken-api", "secret detail of an API view"),
    ],
)
def test_an_unhandled_error_is_a_generic_500_with_the_traceback_only_in_the_log(path, route, secret, caplog):
    before = requests_total(route, "GET", "500")

    response = Client(raise_request_exception=False).get(path, HTTP_X_REQUEST_ID="trace-broken-0001")

    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "server_error", "message": "An internal error occurred.", "detail": None}
    }
    assert secret not in response.content.decode()
    assert response["X-Request-ID"] == "trace-broken-0001"
    [error] = [record for record in caplog.records if record.levelno == logging.ERROR]
    line = json.loads(JsonFormatter().format(error))
    assert line["request_id"] == "trace-broken-0001"
    assert line["exc_info"].startswith("Traceback (most recent call last):")
    assert line["exc_info"].endswith(f"RuntimeError: {secret}")
    assert requests_total(route, "GET", "500") == before + 1
