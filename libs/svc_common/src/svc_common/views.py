"""Django's handler404/handler500 in the shared error shape."""

import sys

from .errors import api_exception_response, as_api_exception, error_response, server_error_response


def not_found(request, exception=None):
    """handler404: JSON, never an HTML page."""
    return error_response(404, "not_found", f"No route matches {request.path}.")


def server_error(request):
    """handler500, for errors raised outside views (in a middleware): a database outage is a 503 there too;
    anything else the generic 500, its traceback in the log."""
    api_exc = as_api_exception(sys.exc_info()[1] or Exception())
    return api_exception_response(api_exc) if api_exc is not None else server_error_response()


def bad_request(request, exception=None):
    """handler400, for suspicious requests Django rejects itself."""
    return error_response(400, "bad_request", "The request was rejected.")


def permission_denied(request, exception=None):
    """handler403."""
    return error_response(403, "permission_denied", "You do not have permission to perform this action.")
