"""Authentication and rate-limit errors, with the headers RFC 9110 and the RateLimit draft expect."""

from rest_framework import status
from rest_framework.exceptions import APIException


class NotAuthenticated(APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "not_authenticated"
    default_detail = "Authentication credentials were not provided."
    auth_header = 'Token realm="api"'


class AuthenticationFailed(NotAuthenticated):
    default_code = "authentication_failed"
    default_detail = "Invalid token."


class TokenExpired(NotAuthenticated):
    default_code = "token_expired"
    default_detail = "Token has expired."


class RateLimited(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"
    default_detail = "Too many requests."

    def __init__(self, wait_seconds: float, detail: str | None = None, rate=None):
        super().__init__(detail)
        self.wait = wait_seconds
        self.rate = rate  # the limit's state (access.decision.RateState), for the RateLimit headers


class RateLimiterUnavailable(RateLimited):
    default_code = "rate_limiter_unavailable"
    default_detail = "Requests cannot be metered right now; retry shortly."


class CsrfFailed(APIException):
    """A session write without a valid CSRF token (a token write needs none)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_code = "csrf_failed"
    default_detail = "CSRF Failed."


class NoTokenPresented(APIException):
    """DELETE /api/auth/token/ revokes the token it presents; a session presents none."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "no_token_presented"
    default_detail = "This request presents no token to revoke; a person revokes tokens on the /tokens/ page."
