"""The monolith's API: the aggregated read, the product list and a product's PATCH (the mixed workload's requests)."""

from rest_framework import generics
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from .filters import ProductFilter
from .models import Product
from .selectors import product_get, user_get
from .serializers import ProductOutputSerializer, ProductPatchSerializer, UserOutputSerializer


class UserProductApi(APIView):
    """The monolith's answer to the aggregated read: two queries, one response."""

    def get(self, request, user_id: int, product_id: int):
        user = user_get(user_id=user_id)
        product = product_get(product_id=product_id)
        if user is None or product is None:
            raise NotFound("User or product does not exist.")
        return Response({"user": UserOutputSerializer(user).data, "product": ProductOutputSerializer(product).data})


class ProductListApi(generics.ListAPIView):
    """Products with the product service's filters, search, orderings and pagination (svc_common's)."""

    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    search_fields = ["name"]
    ordering_fields = ["id", "name", "price", "stock", "created_at", "updated_at"]
    ordering = ["id"]

    def get_queryset(self):
        return Product.objects.order_by("id")


class ProductDetailApi(APIView):
    """One product; PATCH changes its stock or price."""

    def get(self, request, product_id: int):
        return Response(ProductOutputSerializer(self._product(product_id)).data)

    def patch(self, request, product_id: int):
        serializer = ProductPatchSerializer(self._product(product_id), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return Response(ProductOutputSerializer(serializer.save()).data)

    def _product(self, product_id: int) -> Product:
        product = product_get(product_id=product_id)
        if product is None:
            raise NotFound(f"Product {product_id} does not exist.")
        return product
