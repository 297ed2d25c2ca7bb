"""One pooled keep-alive httpx transport per worker process, and the call that maps failures to errors.

Calls go to the transport itself, not through an httpx.Client: the client's request building, auth and
redirect flow and cookie jar cost the gateway about as much CPU as the HTTP exchange (py-spy, cache
misses), and an upstream call needs none of them: no redirects, no cookies, explicit timeouts.
"""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from django.conf import settings

from . import metrics
from .exceptions import UpstreamError, UpstreamTimeout, UpstreamUnavailable

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

_lock = threading.Lock()
_state: dict = {"pid": None, "transport": None, "timeout": None, "pool": None}


def _ensure_for_this_process() -> dict:
    # gunicorn forks workers: sockets and threads must never be shared across processes.
    if _state["pid"] != os.getpid():
        with _lock:
            if _state["pid"] != os.getpid():
                size = settings.UPSTREAM_POOL_SIZE
                _state["transport"] = httpx.HTTPTransport(
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size), trust_env=False
                )
                _state["timeout"] = httpx.Timeout(
                    connect=settings.UPSTREAM_CONNECT_TIMEOUT,
                    read=settings.UPSTREAM_READ_TIMEOUT,
                    write=settings.UPSTREAM_READ_TIMEOUT,
                    pool=settings.UPSTREAM_CONNECT_TIMEOUT,
                ).as_dict()
                _state["pool"] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="upstream")
                _state["pid"] = os.getpid()
    return _state


def reset_on_setting_change(*, setting: str, **kwargs) -> None:
    """Tests that override UPSTREAM_* settings get a client built with the new values."""
    if setting.startswith("UPSTREAM_"):
        with _lock:
            _state["pid"] = None


def request(method: str, url: str, *, headers: dict | None = None, content: bytes | None = None) -> httpx.Response:
    """One exchange on the process's pooled transport (explicit timeouts, no redirects), body read."""
    state = _ensure_for_this_process()
    outgoing = httpx.Request(method, url, headers=headers, content=content, extensions={"timeout": state["timeout"]})
    response = state["transport"].handle_request(outgoing)
    try:
        response.read()
    finally:
        response.close()
    return response


def fan_out_pool() -> ThreadPoolExecutor:
    """Threads for running upstream calls concurrently."""
    return _ensure_for_this_process()["pool"]


def service_url(service: str) -> str:
    """Base URL of an upstream service, read at call time."""
    return {"users": settings.USERS_SERVICE_URL, "products": settings.PRODUCTS_SERVICE_URL}[service].rstrip("/")


def call(service: str, method: str, path: str, **kwargs) -> httpx.Response:
    """One upstream request, timed and counted; transport failures become 502/504 errors that name the service."""
    started = time.perf_counter()
    try:
        response = _send(service, method, path, **kwargs)
    except UpstreamError as exc:
        metrics.observe(service, started, error_code=exc.default_code)
        raise
    metrics.observe(service, started, status_code=response.status_code)
    return response


def _send(service: str, method: str, path: str, **kwargs) -> httpx.Response:
    try:
        try:
            return request(method, service_url(service) + path, **kwargs)
        except httpx.RemoteProtocolError:
            # A pooled keep-alive connection closed by the peer (say, a reloading HAProxy) just as we
            # sent on it: RFC 9112 §9.3.1 lets a client replay an idempotent request once.
            if method not in IDEMPOTENT_METHODS and "Idempotency-Key" not in kwargs.get("headers", {}):
                raise
            return request(method, service_url(service) + path, **kwargs)
    except httpx.TimeoutException as exc:
        if isinstance(exc, httpx.ConnectTimeout):
            raise UpstreamUnavailable(service) from exc
        raise UpstreamTimeout(service) from exc
    except httpx.TransportError as exc:
        raise UpstreamUnavailable(service) from exc
