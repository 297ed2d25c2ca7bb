"""Thin DRF views of the product API: validate, call one service or selector, serialize."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from svc_common.idempotency import idempotent

from .filters import ProductFilter
from .selectors import product_detail_get, product_get, product_list
from .serializers import ProductInputSerializer, ProductOutputSerializer
from .services import product_create, product_delete, product_update


# Writes answer with the output shape, like reads; the schema says so (get_serializer_class picks by method).
@extend_schema_view(
    list=extend_schema(summary="List products"),
    retrieve=extend_schema(summary="Get one product"),
    create=extend_schema(summary="Create a product", responses={201: ProductOutputSerializer}),
    update=extend_schema(summary="Replace a product", responses=ProductOutputSerializer),
    partial_update=extend_schema(summary="Change some fields of a product", responses=ProductOutputSerializer),
    destroy=extend_schema(summary="Delete a product"),
)
class ProductViewSet(viewsets.GenericViewSet):
    """List, retrieve, create, update and delete products."""

    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = ProductFilter
    search_fields = ["name"]
    ordering_fields = ["id", "name", "price", "stock", "created_at", "updated_at"]
    ordering = ["id"]

    def get_queryset(self):
        return product_list()

    def get_serializer_class(self):
        return ProductOutputSerializer if self.request.method in ("GET", "HEAD") else ProductInputSerializer

    def get_object(self):
        product = product_get(product_id=int(self.kwargs["pk"]))
        if product is None:
            raise NotFound(f"Product {self.kwargs['pk']} does not exist.")
        return product

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(ProductOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        data = product_detail_get(product_id=int(pk))
        if data is None:
            raise NotFound(f"Product {pk} does not exist.")
        return Response(data)

    @idempotent
    def create(self, request):
        serializer = ProductInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        product = product_create(**serializer.validated_data)
        return Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @idempotent
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def destroy(self, request, pk=None):
        product_delete(product=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, *, partial: bool):
        product = self.get_object()
        serializer = ProductInputSerializer(product, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        product = product_update(product=product, **serializer.validated_data)
        return Response(ProductOutputSerializer(product).data)
