"""Writes of API clients and tokens; every change drops the Redis records it makes stale, once it commits."""

import logging
from datetime import timedelta

from redis.exceptions import RedisError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .models import ApiClient, ApiToken
from .rates import parse_rate
from .records import client_rate_keys, client_record_key, forget_records, token_record_key
from .selectors import token_unrevoked_get
from .tokens import token_generate, token_hash

logger = logging.getLogger("gateway.clients")


def api_client_get_or_create(*, username: str) -> ApiClient:
    """The API client for a username, created (with no usable password) if needed."""
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    client, _ = ApiClient.objects.get_or_create(user=user)
    return client


def api_client_for_user(*, user) -> ApiClient:
    """The API client of a gateway user who logged in (created on first use): a person and their tokens share it."""
    client, _ = ApiClient.objects.get_or_create(user=user)
    return client


def api_client_update(*, client: ApiClient, rate_limit: str | None = None, unlimited: bool | None = None) -> ApiClient:
    """Change a client's limits; its cached records (tokens, sessions) are dropped so the change applies at once."""
    if rate_limit is not None:
        if rate_limit:
            parse_rate(rate_limit)
        client.rate_limit = rate_limit
    if unlimited is not None:
        client.unlimited = unlimited
    with transaction.atomic():
        client.save()
        records_forget(key_hashes=list(client.tokens.values_list("key_hash", flat=True)), client_ids=[client.pk])
    return client


def token_issue(*, client: ApiClient, name: str = "", ttl: timedelta | None = None) -> tuple[ApiToken, str]:
    """A new token for the client; the plaintext key is returned once and never stored."""
    key = token_generate()
    lifetime = ttl or timedelta(seconds=settings.TOKEN_TTL_SECONDS)
    token = ApiToken.objects.create(
        client=client, name=name, key_hash=token_hash(key), prefix=key[:8], expires_at=timezone.now() + lifetime
    )
    return token, key


def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token now, in the database and, once that commits, in Redis."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        records_forget(key_hashes=[token.key_hash])
    token.refresh_from_db()
    return token


def token_authenticate(*, key: str) -> ApiToken | None:
    """The token for a plaintext key from the database, expired or not: None if unknown, revoked or its user
    inactive. The access step caches its record (access.step.remember)."""
    return token_unrevoked_get(key_hash=token_hash(key))


def records_forget(*, key_hashes: list[str] = (), client_ids: list[int] = (), rate_state: bool = False) -> None:
    """Once the transaction commits (at once outside one), drop the cached records of these tokens and of these
    clients, so that every replica asks the database again; with rate_state, the clients' rate state too (they
    were deleted)."""
    keys = [token_record_key(key_hash) for key_hash in key_hashes]
    keys += [client_record_key(client_id) for client_id in client_ids]
    if rate_state:
        keys += [key for client_id in client_ids for key in client_rate_keys(client_id)]
    transaction.on_commit(lambda: _forget(keys))


def user_records_forget(*, user) -> None:
    """Drop the cached records of a user's API client and of all its tokens (the user was deactivated)."""
    tokens = ApiToken.objects.filter(client__user=user)
    records_forget(
        key_hashes=list(tokens.values_list("key_hash", flat=True)),
        client_ids=list(ApiClient.objects.filter(user=user).values_list("pk", flat=True)),
    )


def _forget(keys: list[str]) -> None:
    try:
        forget_records(keys)
    except RedisError:
        # Redis is down, so no replica can read the stale records either; when it is back, each record is
        # trusted for at most TOKEN_RECORD_TTL_SECONDS after its verification, then checked again.
        logger.warning(
            "Could not drop %d cached records; each is checked again within %ss",
            len(keys),
            settings.TOKEN_RECORD_TTL_SECONDS,
        )
