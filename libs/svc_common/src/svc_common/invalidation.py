"""Object caching in the services, and the invalidation scheme the gateway's page cache reads.

Scheme (a shared contract, documented in docs/caching.md): every committed write to object <id> of a
collection ("users", "products") increments two Redis counters, `inv:<collection>:<id>` and
`inv:<collection>:*`. A cached copy, here or in the gateway, is stored with the counters it was built
from and served only while they are unchanged, so the first read after a commit is fresh. TTLs bound
the damage if an increment is lost (Redis down at that moment).
"""

import json
import logging

from django_redis import get_redis_connection
from redis.exceptions import RedisError

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .breaker import redis_breaker

logger = logging.getLogger("svc_common.invalidation")

COLLECTION_WIDE = "*"


def generation_key(collection: str, object_id: int | str) -> str:
    return f"inv:{collection}:{object_id}"


def detail_key(collection: str, object_id: int, version: int) -> str:
    return f"svc:{collection}:v{version}:{object_id}"


def cached_detail(*, collection: str, object_id: int, version: int, load):
    """The serialized object from Redis when still current, else load() (None = missing, never cached).

    `version` is the shape of the serialized data: bump it when the output serializer changes.
    """
    if not redis_breaker.available():
        return load()
    key = detail_key(collection, object_id, version)
    try:
        entry, generation = get_redis_connection("default").mget(key, generation_key(collection, object_id))
    except RedisError as exc:
        redis_breaker.trip(exc)
        return load()
    generation = generation or b"0"
    if entry is not None:
        stored_generation, _, payload = entry.partition(b"|")
        if stored_generation == generation:
            return json.loads(payload)
    data = load()
    if data is not None:
        _store(key, generation + b"|" + json.dumps(data, cls=DjangoJSONEncoder).encode())
    return data


def _store(key: str, value: bytes) -> None:
    try:
        get_redis_connection("default").set(key, value, ex=settings.OBJECT_CACHE_TTL)
    except RedisError as exc:
        redis_breaker.trip(exc)


def _publish(collection: str, object_ids: list[int]) -> None:
    try:
        pipe = get_redis_connection("default").pipeline(transaction=False)
        for object_id in [*object_ids, COLLECTION_WIDE]:
            pipe.incr(generation_key(collection, object_id))
        pipe.execute()
    except RedisError as exc:
        logger.warning("Could not publish invalidation of %s %s: %s", collection, object_ids, exc)


def invalidate(*, collection: str, object_ids: list[int]) -> None:
    """Publish the change once the transaction commits (at once outside one); the collection-wide
    counter moves even with no ids (rows created in bulk)."""
    ids = [object_id for object_id in object_ids if object_id is not None]
    transaction.on_commit(lambda: _publish(collection, ids))


class InvalidatingQuerySet:
    """QuerySet mixin: bulk writes, which send no signals, publish invalidations too."""

    invalidation_collection = ""

    def update(self, **kwargs):
        ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        invalidate(collection=self.invalidation_collection, object_ids=ids)
        return count

    def bulk_update(self, objs, fields, *args, **kwargs):
        count = super().bulk_update(objs, fields, *args, **kwargs)
        invalidate(collection=self.invalidation_collection, object_ids=[obj.pk for obj in objs])
        return count

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        invalidate(collection=self.invalidation_collection, object_ids=[obj.pk for obj in created])
        return created
