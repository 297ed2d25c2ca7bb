"""The request context middleware: request id, body-size cap, log line, and the error shape for plain views."""

import logging
import time

from django.conf import settings

from .client_ip import client_ip
from .errors import api_exception_response, as_api_exception, error_response, server_error_response
from .request_id import REQUEST_ID_HEADER, incoming_request_id, request_id_var
from .request_log import log_request, logged_client_id
from .routes import route_name

logger = logging.getLogger("svc_common.request")


def _oversized(request) -> bool:
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return limit is not None and (not length.isdigit() or int(length) > limit)


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
