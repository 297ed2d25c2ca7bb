"""Thin DRF views of the user API: validate, call one service or selector, serialize."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from svc_common.idempotency import idempotent

from .filters import UserFilter
from .selectors import user_detail_get, user_get, user_list
from .serializers import UserInputSerializer, UserOutputSerializer
from .services import user_create, user_delete, user_update


# Writes answer with the output shape, like reads; the schema says so (get_serializer_class picks by method).
@extend_schema_view(
    list=extend_schema(summary="List user profiles"),
    retrieve=extend_schema(summary="Get one user profile"),
    create=extend_schema(summary="Create a user profile", responses={201: UserOutputSerializer}),
    update=extend_schema(summary="Replace a user profile", responses=UserOutputSerializer),
    partial_update=extend_schema(summary="Change some fields of a user profile", responses=UserOutputSerializer),
    destroy=extend_schema(summary="Delete a user profile"),
)
class UserViewSet(viewsets.GenericViewSet):
    """List, retrieve, create, update and delete user profiles."""

    lookup_value_regex = r"[0-9]{1,18}"
    filterset_class = UserFilter
    search_fields = ["username", "email", "full_name"]
    ordering_fields = ["id", "username", "email", "created_at", "updated_at"]
    ordering = ["id"]

    def get_queryset(self):
        return user_list()

    def get_serializer_class(self):
        return UserOutputSerializer if self.request.method in ("GET", "HEAD") else UserInputSerializer

    def get_object(self):
        user = user_get(user_id=int(self.kwargs["pk"]))
        if user is None:
            raise NotFound(f"User {self.kwargs['pk']} does not exist.")
        return user

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(UserOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        data = user_detail_get(user_id=int(pk))
        if data is None:
            raise NotFound(f"User {pk} does not exist.")
        return Response(data)

    @idempotent
    def create(self, request):
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @idempotent
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def destroy(self, request, pk=None):
        user_delete(user=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, *, partial: bool):
        user = self.get_object()
        serializer = UserInputSerializer(user, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        user = user_update(user=user, **serializer.validated_data)
        return Response(UserOutputSerializer(user).data)
