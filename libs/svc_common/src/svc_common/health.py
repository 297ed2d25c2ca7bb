"""Liveness (/healthz) and readiness (/readyz) views: the same in every project."""

import logging

from django.http import JsonResponse

from .probes import database_problem

logger = logging.getLogger("svc_common.health")


def healthz(request):
    """The process is alive and serving."""
    return JsonResponse({"status": "ok"})


def readyz(request):
    """Ready when the database answers; otherwise 503 so the load balancer skips this replica."""
    problem = database_problem()
    if problem is not None:
        logger.warning("Readiness check failed: %s", problem)
        return JsonResponse({"status": "unavailable", "checks": {"database": "down"}}, status=503)
    return JsonResponse({"status": "ok", "checks": {"database": "ok"}})
