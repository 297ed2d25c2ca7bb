"""Reads of the user domain."""

from django.db.models import QuerySet

from .models import UserProfile


def user_list() -> QuerySet[UserProfile]:
    """Every profile, in a stable order for pagination."""
    return UserProfile.objects.order_by("id")


def user_get(*, user_id: int) -> UserProfile | None:
    """One profile by id, or None."""
    return UserProfile.objects.filter(pk=user_id).first()
