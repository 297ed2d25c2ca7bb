"""API clients and their tokens; only a SHA-256 hash of a token is ever stored."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiClient(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_client")
    rate_limit = models.CharField(
        max_length=32,
        blank=True,
        help_text='Overrides the default limits for this client, e.g. "1000/minute". Empty: the defaults.',
    )
    unlimited = models.BooleanField(default=False, help_text="Exempt from rate limiting (load tests).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "API client"

    def __str__(self) -> str:
        return self.user.get_username()


class ApiToken(models.Model):
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for, e.g. the machine using it.")
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False, help_text="The first characters, to recognise a token.")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        label = f"{self.prefix}… ({self.client})"
        return f"{self.name}: {label}" if self.name else label

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()
