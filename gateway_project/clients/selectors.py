"""Reads of API clients and tokens."""

from .models import ApiToken


def token_unrevoked_get(*, key_hash: str) -> ApiToken | None:
    """The unrevoked token of an active client with this hash (expired or not), or None."""
    return (
        ApiToken.objects.select_related("client__user")
        .filter(key_hash=key_hash, revoked_at__isnull=True, client__user__is_active=True)
        .first()
    )
