"""URL configuration for the gateway: proxies first, then the aggregated read."""

from django.contrib import admin
from django.urls import path, re_path

from aggregation.views import user_product
from apidocs.views import schema
from clients.apis import TokenApi
from proxy.views import proxy
from status.views import status_page
from svc_common.urls import HANDLERS, health_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^schema/?$", schema, name="schema"),
    re_path(r"^api/auth/token/?$", TokenApi.as_view(), name="token"),
    re_path(r"^api/(?P<service>users|products)(?P<rest>/.*)?$", proxy, name="proxy"),
    re_path(r"^api/(?P<user_id>[^/]+)/(?P<product_id>[^/]+)/?$", user_product, name="user-product"),
    path("status/", status_page, name="status"),
    *health_urlpatterns,
]

handler400 = HANDLERS["handler400"]
handler403 = HANDLERS["handler403"]
handler404 = HANDLERS["handler404"]
handler500 = HANDLERS["handler500"]
