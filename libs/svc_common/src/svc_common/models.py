"""Abstract models only: a service subclasses them, so the tables (and their migrations) are its own."""

from django.db import models


class AbstractIdempotencyRecord(models.Model):
    """The outcome of a write sent with an Idempotency-Key, kept to replay it (svc_common.idempotency).

    A service's concrete subclass is named by settings.IDEMPOTENCY_RECORD_MODEL. Its table and its
    constraint's name ("<app_label>_idempotency_scope_key") are those the services' migrations 0002 created.
    """

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="%(app_label)s_idempotency_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
