"""The user domain's data: one profile per API user."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models.functions import Upper

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
        # One btree per filter and ordering of the API, id last as the tie-breaker where the field is not
        # unique (svc_common.filters); username and email order by their unique indexes. The trigram indexes
        # that serve ?search= are PostgreSQL-only, so they live in migration 0003 alone.
        indexes = [
            models.Index(Upper("username"), name="userprofile_username_upper"),
            models.Index(Upper("email"), name="userprofile_email_upper"),
            models.Index(fields=["created_at", "id"], name="userprofile_created_at_id"),
            models.Index(fields=["updated_at", "id"], name="userprofile_updated_at_id"),
        ]

    def __str__(self) -> str:
        return self.username


class IdempotencyRecord(AbstractIdempotencyRecord):
    """Keyed writes of this service, replayed for IDEMPOTENCY_KEY_TTL_SECONDS."""
