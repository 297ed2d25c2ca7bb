"""Reads of the user domain."""

from django.db.models import QuerySet

from svc_common.invalidation import cached_detail

from .models import UserProfile
from .serializers import UserOutputSerializer

# Bump when UserOutputSerializer's shape changes, so no replica reads an old shape from the cache.
DETAIL_CACHE_VERSION = 1


def user_list() -> QuerySet[UserProfile]:
    """Every profile, in a stable order for pagination."""
    return UserProfile.objects.order_by("id")


def user_get(*, user_id: int) -> UserProfile | None:
    """One profile by id, or None."""
    return UserProfile.objects.filter(pk=user_id).first()


def user_detail_get(*, user_id: int) -> dict | None:
    """One profile as the API shows it, served from Redis after the first read."""

    def load():
        user = user_get(user_id=user_id)
        return UserOutputSerializer(user).data if user is not None else None

    return cached_detail(collection="users", object_id=user_id, version=DETAIL_CACHE_VERSION, load=load)
