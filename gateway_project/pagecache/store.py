"""Filling the page cache after a miss, and waiting for another request's fill (single flight)."""

import asyncio
import hashlib
import logging
import time

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from django.conf import settings

from ratelimit.loop_redis import loop_redis
from svc_common.breaker import redis_breaker

from .keys import PageSpec

logger = logging.getLogger("gateway.pagecache")
PAGE_FIELDS = ("generations", "etag", "content_type", "body")
WAIT_POLL_SECONDS = 0.01


def etag_for(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def page_store(*, spec: PageSpec, generations: str, etag: str, content_type: str, body: bytes, owner: bool) -> None:
    """Store a page with the counters read *before* it was fetched: a write that lands meanwhile makes
    the entry stale at once instead of hiding behind it."""
    if not redis_breaker.available():
        return
    try:
        pipe = get_redis_connection("default").pipeline(transaction=True)
        pipe.hset(
            spec.key,
            mapping={"generations": generations, "etag": etag, "content_type": content_type, "body": body},
        )
        pipe.expire(spec.key, settings.PAGE_CACHE_TTL)
        if owner:
            pipe.delete(spec.lock_key)
        pipe.execute()
    except RedisError as exc:
        redis_breaker.trip(exc)


def page_release(*, spec: PageSpec) -> None:
    """Give up the fill lock without storing (the answer was not cacheable)."""
    try:
        get_redis_connection("default").delete(spec.lock_key)
    except RedisError as exc:
        redis_breaker.trip(exc)


def page_wait(*, spec: PageSpec, generations: str) -> tuple[str, str, bytes] | None:
    """Poll briefly for the page another request is fetching; None if it does not arrive in time."""
    deadline = time.monotonic() + settings.PAGE_CACHE_WAIT_SECONDS
    connection = get_redis_connection("default")
    while time.monotonic() < deadline and redis_breaker.available():
        time.sleep(WAIT_POLL_SECONDS)
        try:
            stored = connection.hmget(spec.key, *PAGE_FIELDS)
        except RedisError as exc:
            redis_breaker.trip(exc)
            return None
        if _is_current(stored, generations):
            return stored[1].decode(), stored[2].decode(), stored[3]
    return None


async def page_wait_async(*, spec: PageSpec, generations: str) -> tuple[str, str, bytes] | None:
    """page_wait() on the gateway's event loop: there, waiting requests hold none of Django's threads,
    so the request filling the page never queues behind them."""
    deadline = time.monotonic() + settings.PAGE_CACHE_WAIT_SECONDS
    while time.monotonic() < deadline and redis_breaker.available():
        await asyncio.sleep(WAIT_POLL_SECONDS)
        try:
            stored = await loop_redis.execute("HMGET", spec.key, *PAGE_FIELDS)
        except RedisError as exc:
            redis_breaker.trip(exc)
            return None
        if _is_current(stored, generations):
            return stored[1].decode(), stored[2].decode(), stored[3]
    return None


def _is_current(stored: list, generations: str) -> bool:
    return stored[0] is not None and stored[0].decode() == generations
