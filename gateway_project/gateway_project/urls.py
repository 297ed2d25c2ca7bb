"""URL configuration for the gateway: the front door and docs, the API (root, tokens, proxies, aggregate), pages."""

from django.contrib import admin
from django.urls import include, path, re_path

from aggregation.views import UserProductView
from apidocs.views import FrontDoor, ReDoc, SwaggerUI, schema
from browsable.views import ApiRoot
from clients.apis import TokenApi
from clients.views import token_revoke_page, tokens_page
from proxy.views import ProxyView
from status.views import status_page
from svc_common.urls import HANDLERS, health_urlpatterns

urlpatterns = [
    path("", FrontDoor.as_view(), name="front-door"),
    path("admin/", admin.site.urls),
    path("api-auth/", include("rest_framework.urls")),
    re_path(r"^schema/?$", schema, name="schema"),
    path("api/", ApiRoot.as_view(), name="api-root"),
    path("api/docs/", SwaggerUI.as_view(), name="api-docs"),
    path("api/redoc/", ReDoc.as_view(), name="api-redoc"),
    re_path(r"^api/auth/token/?$", TokenApi.as_view(), name="token"),
    re_path(r"^api/(?P<service>users|products)(?P<rest>/.*)?$", ProxyView.as_view(), name="proxy"),
    re_path(r"^api/(?P<user_id>[^/]+)/(?P<product_id>[^/]+)/?$", UserProductView.as_view(), name="user-product"),
    path("tokens/", tokens_page, name="tokens"),
    path("tokens/<int:token_id>/revoke/", token_revoke_page, name="token-revoke"),
    path("status/", status_page, name="status"),
    *health_urlpatterns,
]

handler400 = HANDLERS["handler400"]
handler403 = HANDLERS["handler403"]
handler404 = HANDLERS["handler404"]
handler500 = HANDLERS["handler500"]
