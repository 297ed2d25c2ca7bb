"""Declarative API errors shared by every project."""

from collections.abc import Iterable

from rest_framework import exceptions, status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."


class MethodNotAllowed(exceptions.MethodNotAllowed):
    """405 naming the methods the route does allow: RFC 9110 requires the Allow header on a 405."""

    def __init__(self, method: str, allowed: Iterable[str]):
        super().__init__(method)
        self.allowed = ", ".join(sorted(allowed))


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"
    default_detail = "The request body is too large."


class ServiceUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "The service is temporarily unavailable."


class DatabaseUnavailable(ServiceUnavailable):
    """The database refused or dropped the connection (say, PostgreSQL restarting): retry shortly, not a 500."""

    default_code = "database_unavailable"
    default_detail = "The database is unavailable; retry shortly."
    wait = 1


class PageTooDeep(APIException):
    """A page number past the rows that page numbers reach (svc_common.pagination): OFFSET would scan them all."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "page_too_deep"
    default_detail = "Page numbers reach only the first rows of a list; follow `next` (a cursor) to read further."
