"""Authentication lookup and rate limiting in one atomic Redis script, with a declared Redis-down policy."""

import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django_redis import get_redis_connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError

from django.conf import settings

from pagecache.keys import PageSpec
from svc_common.breaker import redis_breaker

from .loop_redis import loop_redis
from .policies import Policy, policy_for

logger = logging.getLogger("gateway.ratelimit")

_SCRIPT_SOURCE = (Path(__file__).parent / "access.lua").read_text()
_SCRIPT_SHA = hashlib.sha1(_SCRIPT_SOURCE.encode()).hexdigest()  # noqa: S324 (Redis names scripts by SHA-1)


@dataclass(frozen=True)
class Decision:
    verdict: str  # ok | limited | miss | expired | unavailable
    client_id: int | None = None
    limit: int = 0
    period_ms: int = 0
    remaining: int = 0
    reset_ms: int = 0
    retry_after_ms: int = 0
    # () | ("hit", etag, content_type, body) | ("fill"|"wait"|"waited", generations, "miss"|"stale"), where
    # "waited" is a wait already spent on the event loop (pagecache.asyncpath): Django fetches at once.
    page: tuple = ()

    @property
    def unlimited(self) -> bool:
        return self.limit < 0


class _ThreadConnection(threading.local):
    """Each thread's own Redis connection for the access script, built from the cache's pool settings.

    The script runs on every API request. Profiling the cache-hit path showed redis-py's client machinery
    around it (pool checkout with its readiness poll, retry wrapper, Script object) costing more CPU
    than the gateway's own work; a connection per thread needs none of it: one send, one read.
    """

    pool = None
    connection = None

    def get(self):
        pool = get_redis_connection("default").connection_pool
        if pool is not self.pool:
            self.pool, self.connection = pool, pool.connection_class(**pool.connection_kwargs)
        return self.connection


_thread_connection = _ThreadConnection()


def _run_script(keys: list[str], args: list) -> list:
    connection = _thread_connection.get()
    try:
        return _evalsha(connection, keys, args)
    except RedisConnectionError:
        # The socket broke since this thread's last call (Redis restarted): redis-py has closed it, so
        # this reconnects once. A reply lost after the script ran would meter that request twice.
        return _evalsha(connection, keys, args)


def _evalsha(connection, keys: list[str], args: list) -> list:
    """EVALSHA, or EVAL when Redis does not hold the script yet (first call, restart, SCRIPT FLUSH)."""
    try:
        connection.send_command("EVALSHA", _SCRIPT_SHA, len(keys), *keys, *args)
        return connection.read_response()
    except NoScriptError:
        connection.send_command("EVAL", _SCRIPT_SOURCE, len(keys), *keys, *args)
        return connection.read_response()


async def _evalsha_async(keys: list[str], args: list) -> list:
    try:
        return await loop_redis.execute("EVALSHA", _SCRIPT_SHA, len(keys), *keys, *args)
    except NoScriptError:
        return await loop_redis.execute("EVAL", _SCRIPT_SOURCE, len(keys), *keys, *args)


def token_record_key(key_hash: str) -> str:
    return f"gw:token:{key_hash}"


def check(*, group: str, key_hash: str | None, client_ip: str, page: PageSpec | None = None) -> Decision:
    """Run the access script; while Redis is failing, return verdict 'unavailable' without waiting on it."""
    policy = policy_for(group)
    if not redis_breaker.available():
        return _unavailable(policy)
    keys, args = _script_input(group, key_hash, client_ip, page, policy)
    try:
        reply = _run_script(keys, args)
    except RedisError as exc:
        redis_breaker.trip(exc)
        return _unavailable(policy)
    return _decision(reply)


async def check_async(*, group: str, key_hash: str | None, client_ip: str, page: PageSpec | None = None) -> Decision:
    """check() for the gateway's event loop (pagecache.asyncpath): same script, same breaker."""
    policy = policy_for(group)
    if not redis_breaker.available():
        return _unavailable(policy)
    keys, args = _script_input(group, key_hash, client_ip, page, policy)
    try:
        reply = await _evalsha_async(keys, args)
    except RedisError as exc:
        redis_breaker.trip(exc)
        return _unavailable(policy)
    return _decision(reply)


def _unavailable(policy: Policy) -> Decision:
    return Decision("unavailable", limit=policy.limit, period_ms=policy.period_ms)


def _script_input(group: str, key_hash: str | None, client_ip: str, page: PageSpec | None, policy: Policy):
    keys = [token_record_key(key_hash) if key_hash else "", f"gw:rl:{group}:ip:{client_ip}"]
    keys += [page.key, page.lock_key, *page.generation_keys] if page else ["", ""]
    return keys, [group, policy.limit, policy.period_ms, settings.PAGE_CACHE_LOCK_MS]


def _decision(reply: list) -> Decision:
    verdict = reply[0].decode()
    if verdict in ("miss", "expired"):
        return Decision(verdict)
    client = reply[1].decode()
    numbers = (int(value) for value in reply[2:7])
    page = tuple(value.decode() if i < 3 else value for i, value in enumerate(reply[7:]))
    return Decision(verdict, int(client) if client else None, *numbers, page=page)


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
