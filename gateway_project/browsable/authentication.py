"""The person the access step admitted, for DRF's browsable API (its navbar names them and offers a logout)."""

from rest_framework.authentication import BaseAuthentication


class AccessAuthentication(BaseAuthentication):
    """The access step (AccessMiddleware) has already authenticated, metered and CSRF-checked the request; this
    only tells DRF who is logged in. A token's client has no person to show: DRF sees it as anonymous."""

    def authenticate(self, request):
        django_request = request._request
        if getattr(django_request, "token_hash", None) is None and django_request.user.is_authenticated:
            return django_request.user, None
        return None
