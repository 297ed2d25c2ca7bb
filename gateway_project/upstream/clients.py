"""The gateway's calls to its upstream services: one pool of keep-alive connections per service and event loop,
each call timed and counted, transport failures turned into errors that name the service.

Calls run on the event loop (the gateway's ASGI server's, or eventloop's own outside a server); Django's
threads reach them through gateway_project.eventloop.run_sync.
"""

import asyncio
import time
from urllib.parse import urlsplit

from django.conf import settings

from . import metrics
from .exceptions import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from .http import AnswerCutShort, Pool, ReadTimedOut, Response, StaleConnection, UpstreamHTTPError

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_pools: dict[asyncio.AbstractEventLoop, dict[str, tuple[str, Pool]]] = {}


def service_url(service: str) -> str:
    """Base URL of an upstream service, read at call time."""
    return {"users": settings.USERS_SERVICE_URL, "products": settings.PRODUCTS_SERVICE_URL}[service].rstrip("/")


def _pool(service: str) -> Pool:
    """The running loop's pool for a service; a new one when its URL or pool size changed (tests override them)."""
    loop = asyncio.get_running_loop()
    if loop not in _pools:
        for closed in [known for known in _pools if known.is_closed()]:
            del _pools[closed]
        _pools[loop] = {}
    pools = _pools[loop]
    wanted = f"{service_url(service)}#{settings.UPSTREAM_POOL_SIZE}"
    known = pools.get(service)
    if known is None or known[0] != wanted:
        if known is not None:
            known[1].close()
        url = urlsplit(service_url(service))
        pools[service] = known = (wanted, Pool(url.hostname, url.port or 80, settings.UPSTREAM_POOL_SIZE))
    return known[1]


async def call(
    service: str, method: str, path: str, *, headers: dict[str, str], content: bytes | None = None
) -> Response:
    """One upstream request, timed and counted; failures become 502/504 errors that name the service."""
    started = time.perf_counter()
    try:
        response = await _send(service, method, path, headers, content)
    except UpstreamError as exc:
        metrics.observe(service, started, error_code=exc.default_code)
        raise
    metrics.observe(service, started, status_code=response.status)
    return response


async def _send(service: str, method: str, path: str, headers: dict[str, str], content: bytes | None) -> Response:
    pool = _pool(service)
    timeouts = {"connect_timeout": settings.UPSTREAM_CONNECT_TIMEOUT, "read_timeout": settings.UPSTREAM_READ_TIMEOUT}
    try:
        try:
            return await pool.request(method, path, headers, content, **timeouts)
        except StaleConnection:
            # RFC 9112 §9.3.1: the request never reached a replica, and resending it is safe for an idempotent
            # method or a keyed write.
            if method not in IDEMPOTENT_METHODS and "Idempotency-Key" not in headers:
                raise
            metrics.REPLAYS.labels(service, "stale_connection").inc()
            return await pool.request(method, path, headers, content, fresh=True, **timeouts)
        except AnswerCutShort:
            # The replica died mid-answer, after HAProxy had passed its head on, so HAProxy cannot retry it. A safe
            # method changed nothing: it is asked once more (RFC 9110 §9.2.2), and HAProxy picks a live replica.
            if method not in SAFE_METHODS:
                raise
            metrics.REPLAYS.labels(service, "answer_cut_short").inc()
            return await pool.request(method, path, headers, content, fresh=True, **timeouts)
    except ReadTimedOut as exc:
        raise UpstreamTimeout(service) from exc
    except UpstreamHTTPError as exc:
        raise UpstreamUnavailable(service) from exc


def call_deadline() -> float:
    """How long a Django thread waits for a call it handed to the loop: the call's own timeouts end it first."""
    return 2 * (settings.UPSTREAM_CONNECT_TIMEOUT + settings.UPSTREAM_READ_TIMEOUT) + 1


async def close_pools() -> None:
    """Close the running loop's idle upstream connections (the ASGI lifespan's shutdown)."""
    for _, pool in _pools.pop(asyncio.get_running_loop(), {}).values():
        pool.close()
