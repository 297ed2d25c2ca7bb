"""Request context: id, body-size cap, one log line per request, and the error shape for plain views."""

import functools
import ipaddress
import logging
import re
import time
import uuid

from django.conf import settings

from .errors import api_exception_response, as_api_exception, error_response, server_error_response
from .logging import request_id_var
from .routes import route_name
from .service_auth import GatewayPrincipal

logger = logging.getLogger("svc_common.request")

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def incoming_request_id(request) -> str:
    """Keep a well-formed X-Request-ID from upstream; otherwise mint one."""
    candidate = request.META.get("HTTP_X_REQUEST_ID", "")
    return candidate if _WELL_FORMED_ID.match(candidate) else uuid.uuid4().hex


@functools.lru_cache(maxsize=16)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def is_trusted_proxy(address: str) -> bool:
    """Whether an address is in TRUSTED_PROXIES (addresses or networks, e.g. 10.0.0.0/8 for a pod network)."""
    return _is_in(address, tuple(settings.TRUSTED_PROXIES))


@functools.lru_cache(maxsize=1024)
def _is_in(address: str, entries: tuple[str, ...]) -> bool:
    # Cached: every request asks about the same few peers (the proxies), and parsing costs microseconds.
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(entries))


def client_ip(request) -> str:
    """The client address: X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and is_trusted_proxy(peer):
        # The proxy appends the address it saw; earlier entries are the client's own claims.
        return forwarded.split(",")[-1].strip() or peer
    return peer


def _oversized(request) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is not None and (not length.isdigit() or int(length) > limit)


def logged_client_id(request) -> int | str | None:
    """The API client: set by the gateway's token check, or named by the gateway to a service (never a token)."""
    client_id = getattr(request, "client_id", None)
    user = request.__dict__.get("user")
    if client_id is None and type(user) is GatewayPrincipal:  # type(): never evaluates a lazy session user
        client_id = user.client_id
    return int(client_id) if isinstance(client_id, str) and client_id.isdigit() else client_id


class RequestContextMiddleware:
    """Outermost but for metrics: every request gets an id, a size check and a JSON log line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = incoming_request_id(request)
        token = request_id_var.set(request.request_id)
        try:
            if _oversized(request):
                response = error_response(
                    413,
                    "payload_too_large",
                    f"The request body exceeds {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
                )
            else:
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            self._log(request, response, started)
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request, exc):
        """Plain Django views raise DRF-style errors too; render them in the shared shape."""
        api_exc = as_api_exception(exc)
        if api_exc is not None:
            return api_exception_response(api_exc)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return server_error_response()

    @staticmethod
    def _log(request, response, started) -> None:
        log_request(
            {
                "method": request.method,
                "path": request.path,
                "route": route_name(request),
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_ip": client_ip(request),
                "client_id": logged_client_id(request),
                "cache": response.get("X-Cache"),
                "cache_ms": getattr(request, "cache_timing_ms", None),
                "upstream_ms": getattr(request, "upstream_timings", None),
            }
        )


def log_request(fields: dict) -> None:
    """The request's JSON line; a 5xx answer is a WARNING line, so it stands out (an unhandled error also
    has its ERROR line)."""
    status = fields["status"]
    level = logging.WARNING if status >= 500 else logging.INFO
    logger.log(level, "%s %s %s", fields["method"], fields["path"], status, extra=fields)
