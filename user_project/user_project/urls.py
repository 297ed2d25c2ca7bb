"""URL configuration for the user service."""

from drf_spectacular.views import SpectacularAPIView

from django.contrib import admin
from django.urls import include, path, re_path

from svc_common.urls import HANDLERS, health_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^api/schema/?$", SpectacularAPIView.as_view(), name="schema"),
    path("api/", include("users.urls")),
    path("api-auth/", include("rest_framework.urls")),
    *health_urlpatterns,
]

handler400 = HANDLERS["handler400"]
handler403 = HANDLERS["handler403"]
handler404 = HANDLERS["handler404"]
handler500 = HANDLERS["handler500"]
