"""The one error shape, {"error": {"code", "message", "detail"}}, for DRF and plain Django views."""

import logging

from rest_framework import exceptions, status
from rest_framework.response import Response

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse

from .exceptions import DatabaseUnavailable, PayloadTooLarge

logger = logging.getLogger("svc_common.errors")


def error_body(code: str, message: str, detail=None) -> dict:
    """Build the error envelope every project returns."""
    return {"error": {"code": code, "message": message, "detail": detail}}


def error_response(status_code: int, code: str, message: str, detail=None, headers=None) -> JsonResponse:
    """A JsonResponse carrying the error envelope."""
    response = JsonResponse(error_body(code, message, detail), status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def as_api_exception(exc: Exception) -> exceptions.APIException | None:
    """Map Django's own exceptions onto DRF ones so both kinds of view share one shape."""
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge()
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ValidationError("The request was rejected as suspicious.")
    if isinstance(exc, (OperationalError, InterfaceError)):
        # Refused or dropped connections (a restarting PostgreSQL): the client may retry, so say when.
        logger.warning("Database unavailable: %s", exc)
        return DatabaseUnavailable()
    return None


def describe(exc: exceptions.APIException) -> tuple[str, str, object]:
    """(code, message, detail) for an APIException: field errors go to detail."""
    if isinstance(exc.detail, (dict, list)):
        if isinstance(exc, exceptions.ValidationError):
            return "invalid", "Invalid input.", exc.detail
        return exc.default_code, str(exc.default_detail), exc.detail
    code = getattr(exc.detail, "code", None) or exc.default_code
    return str(code), str(exc.detail), getattr(exc, "extra_detail", None)


def response_headers(exc: exceptions.APIException) -> dict:
    """The headers an error must keep: WWW-Authenticate on 401, Allow on 405, Retry-After on 429/503."""
    headers = {}
    if getattr(exc, "allowed", None):
        headers["Allow"] = exc.allowed
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    return headers


def api_exception_response(exc: exceptions.APIException) -> JsonResponse:
    """Render an APIException outside DRF (plain Django views, middleware)."""
    return error_response(exc.status_code, *describe(exc), headers=response_headers(exc))


def server_error_response() -> JsonResponse:
    """The generic 500: details stay in the log."""
    return error_response(500, "server_error", "An internal error occurred.")


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every error in the shared shape; unexpected ones logged, never leaked."""
    api_exc = as_api_exception(exc)
    if api_exc is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return Response(
            error_body("server_error", "An internal error occurred."), status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    return Response(error_body(*describe(api_exc)), status=api_exc.status_code, headers=response_headers(api_exc))
