"""Credential records in Redis: what the access script needs about a token, or about the API client of a logged-in
person, cached so that a request needs no database.

A record is stored only by the access step (access.step.remember), with the ticket the access script issued
before the database was read; dropping a record (forget_records) also drops its ticket, so a verification that
raced a revocation cannot store the record again (access/access.lua states the protocol).
"""

from dataclasses import dataclass

from django_redis import get_redis_connection

from .models import ApiClient, ApiToken
from .rates import parse_rate

# A client record never expires by itself: Django checks the session behind it on every request.
NEVER_EXPIRES_MS = 2**53
# Rate keys per client and group (access.lua): dropped with the client.
CLIENT_RATE_GROUPS = ("read", "write")


@dataclass(frozen=True, slots=True)
class Record:
    """What the access script reads about a token or a client (its HMGET fields)."""

    client_id: int
    limit: int  # 0: the defaults apply
    period_ms: int
    unlimited: bool
    expires_ms: int


def token_record_key(key_hash: str) -> str:
    return f"gw:token:{key_hash}"


def client_record_key(client_id: int) -> str:
    """The record a session request is metered with: its client's, with the same fields as a token's."""
    return f"gw:client:{client_id}"


def client_rate_keys(client_id: int) -> list[str]:
    return [f"gw:rl:{group}:c{client_id}" for group in CLIENT_RATE_GROUPS]


def client_record(client: ApiClient, *, expires_ms: int = NEVER_EXPIRES_MS) -> Record:
    """The record of a client read from the database (for a session, or for one of its tokens)."""
    override = parse_rate(client.rate_limit) if client.rate_limit else None
    return Record(
        client_id=client.pk,
        limit=override.limit if override else 0,
        period_ms=override.period_ms if override else 0,
        unlimited=client.unlimited,
        expires_ms=expires_ms,
    )


def token_record(token: ApiToken) -> Record:
    """The record of a token read from the database: its client's, with the token's expiry."""
    return client_record(token.client, expires_ms=int(token.expires_at.timestamp() * 1000))


def forget_records(keys: list[str]) -> None:
    """Drop cached records, tickets included (revocation, client changes), or other keys. Raises if Redis is
    down: the caller decides."""
    if keys:
        get_redis_connection("default").delete(*keys)
