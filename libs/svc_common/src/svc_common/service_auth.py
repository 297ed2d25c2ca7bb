"""Service-to-service trust: the user and product APIs answer the gateway (shared credential) or staff."""

import hmac

from rest_framework import authentication, exceptions, permissions

from django.conf import settings

SERVICE_TOKEN_HEADER = "X-Service-Token"  # noqa: S105 (a header name, not a secret)
CLIENT_ID_HEADER = "X-Client-ID"


class GatewayPrincipal:
    """The gateway, calling on behalf of one of its API clients."""

    is_authenticated = True
    is_staff = False
    is_gateway = True

    def __init__(self, client_id: str | None):
        self.client_id = client_id

    def __str__(self) -> str:
        return f"gateway (client {self.client_id})"


class GatewayAuthentication(authentication.BaseAuthentication):
    """Accept calls that carry the shared service credential, compared in constant time."""

    def authenticate(self, request):
        presented = request.META.get("HTTP_X_SERVICE_TOKEN")
        if presented is None:
            return None
        if not is_accepted_credential(presented):
            raise exceptions.AuthenticationFailed("Invalid service credential.")
        return GatewayPrincipal(request.META.get("HTTP_X_CLIENT_ID")), None

    def authenticate_header(self, request):
        return 'Service realm="internal"'


def is_accepted_credential(presented: str) -> bool:
    """The current credential, or a previous one still accepted during a rotation; each compared in constant
    time, and all of them always, so the time taken says nothing about which one matched."""
    accepted = [settings.SERVICE_AUTH_TOKEN, *settings.SERVICE_AUTH_PREVIOUS_TOKENS]
    matches = [hmac.compare_digest(presented.encode(), credential.encode()) for credential in accepted if credential]
    return any(matches)


class IsGatewayOrStaff(permissions.BasePermission):
    """The gateway, or a logged-in staff member using the browsable API."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and (getattr(user, "is_gateway", False) or (user.is_authenticated and user.is_staff)))
