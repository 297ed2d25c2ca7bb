"""The user domain's data: one profile per API user."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models

from svc_common.invalidation import InvalidatingQuerySet
from svc_common.models import AbstractIdempotencyRecord


class UserProfileQuerySet(InvalidatingQuerySet, models.QuerySet):
    invalidation_collection = "users"


class UserProfile(models.Model):
    username = models.CharField(max_length=150, unique=True, validators=[UnicodeUsernameValidator()])
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserProfileQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = "user profile"

    def __str__(self) -> str:
        return self.username


class IdempotencyRecord(AbstractIdempotencyRecord):
    """Keyed writes of this service, replayed for IDEMPOTENCY_KEY_TTL_SECONDS."""
