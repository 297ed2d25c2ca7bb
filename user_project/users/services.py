"""Writes of the user domain."""

from django.db import IntegrityError, transaction

from svc_common.exceptions import Conflict
from svc_common.invalidation import invalidate

from .models import UserProfile


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def user_create(*, username: str, email: str, full_name: str = "") -> UserProfile:
    """Create a profile; a concurrent duplicate becomes a 409, not a 500."""
    try:
        with transaction.atomic():
            return UserProfile.objects.create(username=username, email=_normalise_email(email), full_name=full_name)
    except IntegrityError as exc:
        raise Conflict("A user with this username or email already exists.") from exc


def user_update(*, user: UserProfile, **fields) -> UserProfile:
    """Apply the given fields to a profile and save only those."""
    if "email" in fields:
        fields["email"] = _normalise_email(fields["email"])
    for name, value in fields.items():
        setattr(user, name, value)
    try:
        with transaction.atomic():
            user.save(update_fields=[*fields, "updated_at"])
    except IntegrityError as exc:
        raise Conflict("A user with this username or email already exists.") from exc
    return user


def user_delete(*, user: UserProfile) -> None:
    """Delete a profile."""
    user.delete()


def user_seed(*, count: int) -> int:
    """Ensure demo users user_1..user_N exist; returns how many were created (idempotent)."""
    existing = set(UserProfile.objects.filter(username__startswith="user_").values_list("username", flat=True))
    missing = [
        UserProfile(username=f"user_{i}", email=f"user_{i}@example.com", full_name=f"User {i}")
        for i in range(1, count + 1)
        if f"user_{i}" not in existing
    ]
    UserProfile.objects.bulk_create(missing, ignore_conflicts=True, batch_size=1000)
    return len(missing)


def user_cache_invalidate(*, user_ids: list[int]) -> None:
    """Make cached copies of these objects, and of list pages, stale (here and at the gateway)."""
    invalidate(collection="users", object_ids=user_ids)
