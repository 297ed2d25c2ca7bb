"""URL patterns every project mounts: health endpoints."""

from django.urls import path

from .health import healthz, readyz

health_urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
]

HANDLERS = {
    "handler400": "svc_common.views.bad_request",
    "handler403": "svc_common.views.permission_denied",
    "handler404": "svc_common.views.not_found",
    "handler500": "svc_common.views.server_error",
}
