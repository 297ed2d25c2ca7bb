"""Dependency probes: the one database probe (readiness, metrics, the container entry point) and the cache's.

They run on the caller's thread and reuse its persistent connections: no extra connection per worker.
The database probe is bounded by DATABASE_CONNECT_TIMEOUT, the cache probe by Redis' socket timeouts
(svc_common.conf).
"""

import time

from django.core.cache import caches
from django.db import connection


def database_problem() -> str | None:
    """SELECT 1 on this thread's connection: None when it answers, else the first line of the reason.

    A failed connection is closed, so that the next probe reconnects instead of reusing a broken one.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure of the dependency means "down"
        connection.close()
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return None


def database_ok() -> bool:
    """Whether the database answers SELECT 1 (database_problem() without the reason)."""
    return database_problem() is None


def cache_ok() -> bool:
    """PING Redis (django-redis); any other cache backend: a set and get round trip."""
    try:
        from django_redis import get_redis_connection

        return bool(get_redis_connection("default").ping())
    except NotImplementedError:
        cache = caches["default"]
        cache.set("svc_common:probe", "ok", 5)
        return cache.get("svc_common:probe") == "ok"
    except Exception:  # noqa: BLE001
        return False


PROBES = {"database": database_ok, "cache": cache_ok}


def probe(name: str) -> tuple[bool, float]:
    """(healthy, seconds the probe took)."""
    started = time.perf_counter()
    healthy = PROBES[name]()
    return healthy, time.perf_counter() - started
