"""Writes of API clients and tokens; every change drops the Redis records it makes stale."""

import logging
from datetime import timedelta

from redis.exceptions import RedisError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from .exceptions import TokenExpired
from .models import ApiClient, ApiToken
from .rates import parse_rate
from .records import forget_client_record, forget_token_records, store_client_record, store_token_record
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
    client.save()
    _forget(list(client.tokens.values_list("key_hash", flat=True)), client_id=client.pk)
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
    """Revoke a token now, in the database and in Redis."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    _forget([token.key_hash])
    return token


def token_authenticate(*, key: str) -> ApiToken | None:
    """The token for a plaintext key from the database (None if unknown or revoked; TokenExpired if
    expired), caching its record for the access script."""
    token = token_unrevoked_get(key_hash=token_hash(key))
    if token is None:
        return None
    remaining = (token.expires_at - timezone.now()).total_seconds()
    if remaining <= 0:
        raise TokenExpired()
    client = token.client
    store_token_record(
        key_hash=token.key_hash,
        client_id=client.pk,
        override=parse_rate(client.rate_limit) if client.rate_limit else None,
        unlimited=client.unlimited,
        expires_ms=int(token.expires_at.timestamp() * 1000),
        ttl_seconds=int(min(remaining, settings.TOKEN_RECORD_TTL_SECONDS)),
    )
    return token


def api_client_record_store(*, client: ApiClient) -> None:
    """Cache the client's record for the access script, for a person Django has authenticated (a session)."""
    store_client_record(
        client_id=client.pk,
        override=parse_rate(client.rate_limit) if client.rate_limit else None,
        unlimited=client.unlimited,
        ttl_seconds=settings.TOKEN_RECORD_TTL_SECONDS,
    )


def _forget(key_hashes: list[str], *, client_id: int | None = None) -> None:
    try:
        forget_token_records(key_hashes)
        if client_id is not None:
            forget_client_record(client_id)
    except RedisError:
        # Redis is down, so no replica can read the stale records either; their short TTL bounds the rest.
        logger.warning(
            "Could not drop %d cached token records; they expire within %ss",
            len(key_hashes),
            settings.TOKEN_RECORD_TTL_SECONDS,
        )
