"""Filling the page cache after a miss, and waiting for another request's fill (single flight)."""

import hashlib
import logging
import time

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from django.conf import settings

from svc_common.breaker import redis_breaker

from .keys import PageSpec

logger = logging.getLogger("gateway.pagecache")


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
        time.sleep(0.01)
        try:
            stored, etag, content_type, body = connection.hmget(spec.key, "generations", "etag", "content_type", "body")
        except RedisError as exc:
            redis_breaker.trip(exc)
            return None
        if stored is not None and stored.decode() == generations:
            return etag.decode(), content_type.decode(), body
    return None
