"""Cheap database and cache probes for the health gauges of /metrics, bounded by the projects' short timeouts.

They run on the scraping request's thread and reuse its persistent connections: no extra connection per
worker. The database probe is bounded by DATABASE_CONNECT_TIMEOUT (3 s), the cache probe by Redis'
socket timeouts (0.25 s); see svc_common.conf.
"""

import time

from django.core.cache import caches
from django.db import connection


def database_ok() -> bool:
    """SELECT 1 on this thread's connection; a failed connection is closed so the next probe reconnects."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure of the dependency means "down"
        connection.close()
        return False
    return True


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
