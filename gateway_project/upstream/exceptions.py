"""Errors for upstream services that fail to answer properly."""

from rest_framework import status
from rest_framework.exceptions import APIException


class UpstreamError(APIException):
    """Base: the message and detail always name the upstream."""

    def __init__(self, service: str):
        super().__init__(self.default_detail.format(service=service))
        self.extra_detail = {"service": service}


class UpstreamUnavailable(UpstreamError):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "upstream_unavailable"
    default_detail = "The {service} service is unavailable."


class UpstreamTimeout(UpstreamError):
    status_code = status.HTTP_504_GATEWAY_TIMEOUT
    default_code = "upstream_timeout"
    default_detail = "The {service} service did not answer in time."


class UpstreamBadResponse(UpstreamError):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "upstream_bad_response"
    default_detail = "The {service} service returned an invalid response."


class UpstreamBusy(UpstreamError):
    """The load balancer in front of the service refused: every replica was busy (or none was up)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "upstream_busy"
    default_detail = "The {service} service is at capacity; retry shortly."
    wait = 1


class UpstreamDegraded(UpstreamError):
    """The service answered that it cannot serve right now (e.g. its database is down), naming why."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "upstream_degraded"
    default_detail = "The {service} service cannot answer right now; retry shortly."
    wait = 1

    def __init__(self, service: str, reason: str | None):
        super().__init__(service)
        self.extra_detail = {"service": service, "reason": reason}
