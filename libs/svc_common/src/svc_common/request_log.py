"""The request log: one JSON line per answered request, on the "svc_common.request" logger."""

import logging

from .service_auth import GatewayPrincipal

logger = logging.getLogger("svc_common.request")


def logged_client_id(request) -> int | str | None:
    """The API client: set by the gateway's token check, or named by the gateway to a service (never a token)."""
    client_id = getattr(request, "client_id", None)
    user = request.__dict__.get("user")
    if client_id is None and type(user) is GatewayPrincipal:  # type(): never evaluates a lazy session user
        client_id = user.client_id
    return int(client_id) if isinstance(client_id, str) and client_id.isdigit() else client_id


def log_request(fields: dict) -> None:
    """The request's JSON line; a 5xx answer is a WARNING line, so it stands out (an unhandled error also
    has its ERROR line)."""
    status = fields["status"]
    level = logging.WARNING if status >= 500 else logging.INFO
    logger.log(level, "%s %s %s", fields["method"], fields["path"], status, extra=fields)
