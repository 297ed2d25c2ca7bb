"""Writes of the user domain."""

from django.db import IntegrityError, transaction

from svc_common.bulk import seed
from svc_common.exceptions import Conflict
from svc_common.importing import ImportSpec
from svc_common.invalidation import invalidate

from . import demo
from .models import UserProfile
from .serializers import UserInputSerializer


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


def user_seed(*, count: int, chunk: int = 100_000, progress=None) -> int:
    """Ensure demo users 1..N (users.demo) exist; returns how many were created (idempotent). One bulk load:
    generate_series on PostgreSQL, chunk by chunk, rows built in Python elsewhere; then ANALYZE and one
    invalidation (svc_common.bulk)."""
    return seed(UserProfile, demo.USERS, collection="users", count=count, chunk=chunk, progress=progress)


def user_import_normalise(data: dict) -> dict:
    """What user_create stores: the email lower-cased."""
    if "email" in data:
        data["email"] = _normalise_email(data["email"])
    return data


def user_cache_invalidate(*, user_ids: list[int]) -> None:
    """Make cached copies of these objects, and of list pages, stale (here and at the gateway)."""
    invalidate(collection="users", object_ids=user_ids)


# import_users: rows checked by the API's own input fields, refused when their username or email exists.
USER_IMPORT = ImportSpec(
    model=UserProfile,
    serializer_class=UserInputSerializer,
    keys=("username", "email"),
    collection="users",
    normalise=user_import_normalise,
)
