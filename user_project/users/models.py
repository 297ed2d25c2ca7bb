"""The user domain's data: one profile per API user."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models

from svc_common.invalidation import InvalidatingQuerySet


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


class IdempotencyRecord(models.Model):
    """The outcome of a write sent with an Idempotency-Key, kept to replay it (svc_common.idempotency)."""

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="users_idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
