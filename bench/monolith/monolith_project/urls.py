"""The monolith's routes: the aggregated read, and the product list and detail the mixed workload uses."""

from catalog.apis import ProductDetailApi, ProductListApi, UserProductApi
from catalog.caching import cached_view
from django.urls import path

urlpatterns = [
    path(
        "api/<int:user_id>/<int:product_id>/",
        cached_view(lambda user_id, product_id: [f"user:{user_id}", f"product:{product_id}"])(UserProductApi.as_view()),
    ),
    path("api/products/", cached_view(lambda: ["products"])(ProductListApi.as_view())),
    path("api/products/<int:product_id>/", ProductDetailApi.as_view()),
]
