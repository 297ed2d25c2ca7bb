"""Django's handler404/handler500 in the shared error shape."""

from .errors import error_response, server_error_response


def not_found(request, exception=None):
    """handler404: JSON, never an HTML page."""
    return error_response(404, "not_found", f"No route matches {request.path}.")


def server_error(request):
    """handler500: generic; the traceback is in the log."""
    return server_error_response()


def bad_request(request, exception=None):
    """handler400, for suspicious requests Django rejects itself."""
    return error_response(400, "bad_request", "The request was rejected.")


def permission_denied(request, exception=None):
    """handler403."""
    return error_response(403, "permission_denied", "You do not have permission to perform this action.")
