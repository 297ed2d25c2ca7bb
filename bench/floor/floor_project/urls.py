"""The floor's only route: the aggregated endpoint's path."""

from django.urls import path

from .views import user_product

urlpatterns = [path("api/<int:user_id>/<int:product_id>/", user_product)]
