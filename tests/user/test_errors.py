"""svc_common's handler500: errors raised outside a view (in a middleware) keep the shared shape."""

import json

from django.db import OperationalError
from django.test import RequestFactory

from svc_common.views import server_error


def answer_while_handling(exc: Exception):
    """What Django's handler500 returns: it runs while the exception is being handled."""
    request = RequestFactory().get("/api/users/")
    try:
        raise exc
    except Exception:
        return server_error(request)


def test_a_database_outage_raised_in_a_middleware_is_a_json_503_with_retry_after():
    response = answer_while_handling(OperationalError("connection refused"))

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert json.loads(response.content) == {
        "error": {
            "code": "database_unavailable",
            "message": "The database is unavailable; retry shortly.",
            "detail": None,
        }
    }


def test_any_other_error_raised_in_a_middleware_is_the_generic_json_500():
    response = answer_while_handling(RuntimeError("boom"))

    assert response.status_code == 500
    assert json.loads(response.content) == {
        "error": {"code": "server_error", "message": "An internal error occurred.", "detail": None}
    }
