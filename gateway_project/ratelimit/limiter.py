"""Authentication lookup and rate limiting in one atomic Redis script, with a declared Redis-down policy."""

import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django_redis import get_redis_connection
from pagecache.keys import PageSpec
from redis.exceptions import RedisError
from svc_common.breaker import redis_breaker

from .policies import Policy, policy_for

logger = logging.getLogger("gateway.ratelimit")

_SCRIPT_SOURCE = (Path(__file__).parent / "access.lua").read_text()
_scripts: dict = {}


@dataclass(frozen=True)
class Decision:
    verdict: str  # ok | limited | miss | expired | unavailable
    client_id: int | None = None
    limit: int = 0
    period_ms: int = 0
    remaining: int = 0
    reset_ms: int = 0
    retry_after_ms: int = 0
    page: tuple = ()  # () | ("hit", etag, content_type, body) | ("fill"|"wait", generations, "miss"|"stale")

    @property
    def unlimited(self) -> bool:
        return self.limit < 0


def _script():
    connection = get_redis_connection("default")
    script = _scripts.get(id(connection))
    if script is None:
        script = _scripts[id(connection)] = connection.register_script(_SCRIPT_SOURCE)
    return script


def token_record_key(key_hash: str) -> str:
    return f"gw:token:{key_hash}"


def check(*, group: str, key_hash: str | None, client_ip: str, page: PageSpec | None = None) -> Decision:
    """Run the access script; while Redis is failing, return verdict 'unavailable' without waiting on it."""
    policy = policy_for(group)
    if not redis_breaker.available():
        return Decision("unavailable", limit=policy.limit, period_ms=policy.period_ms)
    keys = [token_record_key(key_hash) if key_hash else "", f"gw:rl:{group}:ip:{client_ip}"]
    keys += [page.key, page.lock_key, *page.generation_keys] if page else ["", ""]
    try:
        reply = _script()(keys=keys, args=[group, policy.limit, policy.period_ms, settings.PAGE_CACHE_LOCK_MS])
    except RedisError as exc:
        redis_breaker.trip(exc)
        return Decision("unavailable", limit=policy.limit, period_ms=policy.period_ms)
    verdict = reply[0].decode()
    if verdict in ("miss", "expired"):
        return Decision(verdict)
    client = reply[1].decode()
    numbers = (int(value) for value in reply[2:7])
    page = tuple(value.decode() if i < 3 else value for i, value in enumerate(reply[7:]))
    return Decision(verdict, int(client) if client else None, *numbers, page=page)


def store_token_record(*, key_hash: str, client_id: int, override: Policy | None, unlimited: bool,
                       expires_ms: int, ttl_seconds: int) -> None:
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
