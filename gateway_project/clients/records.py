"""Token records in Redis: what the access script needs about a token, cached so a request needs no database."""

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from svc_common.breaker import redis_breaker

from .rates import Policy


def token_record_key(key_hash: str) -> str:
    return f"gw:token:{key_hash}"


def store_token_record(
    *, key_hash: str, client_id: int, override: Policy | None, unlimited: bool, expires_ms: int, ttl_seconds: int
) -> None:
    """Cache what the script needs about a token; a Redis failure only costs a database read next time."""
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
        pipe.hset(token_record_key(key_hash), mapping=record)
        pipe.expire(token_record_key(key_hash), max(1, ttl_seconds))
        pipe.execute()
    except RedisError as exc:
        redis_breaker.trip(exc)


def forget_token_records(key_hashes: list[str]) -> None:
    """Drop cached token records (revocation, client changes). Raises if Redis is down: the caller decides."""
    if key_hashes:
        get_redis_connection("default").delete(*(token_record_key(h) for h in key_hashes))
