"""Credential records in Redis: what the access script needs about a token, or about the API client of a logged-in
person, cached so that a request needs no database."""

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from svc_common.breaker import redis_breaker

from .rates import Policy

# A client record never expires by itself: Django checks the session behind it on every request.
NEVER_EXPIRES_MS = 2**53


def token_record_key(key_hash: str) -> str:
    return f"gw:token:{key_hash}"


def client_record_key(client_id: int) -> str:
    """The record a session request is metered with: its client's, with the same fields as a token's."""
    return f"gw:client:{client_id}"


def store_token_record(
    *, key_hash: str, client_id: int, override: Policy | None, unlimited: bool, expires_ms: int, ttl_seconds: int
) -> None:
    """Cache what the script needs about a token; a Redis failure only costs a database read next time."""
    _store(token_record_key(key_hash), client_id, override, unlimited, expires_ms, ttl_seconds)


def store_client_record(*, client_id: int, override: Policy | None, unlimited: bool, ttl_seconds: int) -> None:
    """Cache what the script needs about a client whose person Django has authenticated (a session)."""
    _store(client_record_key(client_id), client_id, override, unlimited, NEVER_EXPIRES_MS, ttl_seconds)


def _store(
    key: str, client_id: int, override: Policy | None, unlimited: bool, expires_ms: int, ttl_seconds: int
) -> None:
    record = {
        "client": client_id,
        "limit": override.limit if override else 0,
        "period_ms": override.period_ms if override else 0,
        "unlimited": int(unlimited),
        "expires_ms": expires_ms,
    }
    if not redis_breaker.available():
        return
    try:
        pipe = get_redis_connection("default").pipeline()
        pipe.hset(key, mapping=record)
        pipe.expire(key, max(1, ttl_seconds))
        pipe.execute()
    except RedisError as exc:
        redis_breaker.trip(exc)


def forget_token_records(key_hashes: list[str]) -> None:
    """Drop cached token records (revocation, client changes). Raises if Redis is down: the caller decides."""
    if key_hashes:
        get_redis_connection("default").delete(*(token_record_key(h) for h in key_hashes))


def forget_client_record(client_id: int) -> None:
    """Drop a client's cached record (its limits changed). Raises if Redis is down: the caller decides."""
    get_redis_connection("default").delete(client_record_key(client_id))
