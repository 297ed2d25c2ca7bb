"""The request id: a well-formed X-Request-ID from upstream is kept, otherwise one is minted."""

import contextvars
import re
import uuid

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

# The id of the request this thread or task is serving, for the log lines written while serving it.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def incoming_request_id(request) -> str:
    """Keep a well-formed X-Request-ID from upstream; otherwise mint one."""
    candidate = request.META.get("HTTP_X_REQUEST_ID", "")
    return candidate if _WELL_FORMED_ID.match(candidate) else uuid.uuid4().hex
