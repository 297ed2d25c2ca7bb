"""Liveness (/healthz) and readiness (/readyz) views: the same in every project."""

import logging

from django.db import Error as DatabaseError
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger("svc_common.health")


def healthz(request):
    """The process is alive and serving."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Ready when the database answers; otherwise 503 so the load balancer skips this replica."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Readiness check failed: %s", exc)
        # A broken persistent connection must not stick: close it so the next check reconnects.
        connection.close()
        return JsonResponse({"status": "unavailable", "checks": {"database": "down"}}, status=503)
    return JsonResponse({"status": "ok", "checks": {"database": "ok"}})
