"""Reads of API clients and tokens."""

from django.db.models import QuerySet

from .models import ApiClient, ApiToken


def token_unrevoked_get(*, key_hash: str) -> ApiToken | None:
    """The unrevoked token of an active client with this hash (expired or not), or None."""
    return (
        ApiToken.objects.select_related("client__user")
        .filter(key_hash=key_hash, revoked_at__isnull=True, client__user__is_active=True)
        .first()
    )


def token_list(*, client: ApiClient) -> QuerySet[ApiToken]:
    """A client's tokens, newest first, revoked and expired ones included."""
    return ApiToken.objects.filter(client=client).order_by("-created_at", "-id")


def token_of_client_get(*, client: ApiClient, token_id: int) -> ApiToken | None:
    """One of the client's tokens, or None (another client's token is not theirs to see)."""
    return ApiToken.objects.filter(client=client, pk=token_id).first()
