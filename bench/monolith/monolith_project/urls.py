"""The monolith's only route: the aggregated read."""

from catalog.apis import UserProductApi
from django.urls import path

urlpatterns = [path("api/<int:user_id>/<int:product_id>/", UserProductApi.as_view())]
