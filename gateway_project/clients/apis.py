"""POST /api/auth/token/ issues a token for username and password; DELETE revokes the token presented."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from django.contrib.auth import authenticate

from browsable.renderers import GatewayBrowsableAPIRenderer
from svc_common.login_throttle import login_attempt, login_succeeded
from svc_common.openapi import ErrorSerializer

from .exceptions import AuthenticationFailed, NoTokenPresented, RateLimited
from .models import ApiToken
from .serializers import TokenIssuedSerializer, TokenRequestSerializer
from .services import api_client_get_or_create, token_issue, token_revoke

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
USERNAME_LIMITED = "Too many failed logins for this username; retry later."


class TokenApi(APIView):
    """API tokens: exchange a username and password for one, or revoke the one a request presents.

    Authentication and the per-address limit happen in AccessMiddleware, before this view; the username's
    password guesses are metered here, before the password is checked (svc_common.login_throttle)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, GatewayBrowsableAPIRenderer]
    serializer_class = TokenRequestSerializer

    @extend_schema(
        operation_id="token_create",
        summary="Exchange a username and password for an API token",
        description=(
            "The key is shown once and never stored (the gateway keeps its SHA-256). A client may hold several "
            'tokens; each expires after TOKEN_TTL_SECONDS. Metered per client address by the "auth" limit.'
        ),
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={
            201: OpenApiResponse(TokenIssuedSerializer, description="A new token."),
            401: OpenApiResponse(ErrorSerializer, description="A wrong username or password."),
        },
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data.pop("name", "")
        attempt = login_attempt(username=serializer.validated_data["username"], address=None)
        if not attempt.allowed:
            raise RateLimited(attempt.retry_after, USERNAME_LIMITED)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            raise AuthenticationFailed("Invalid username or password.")
        login_succeeded(attempt)
        client = api_client_get_or_create(username=user.get_username())
        token, key = token_issue(client=client, name=name)
        body = TokenIssuedSerializer({"token": key, "client": str(client), "expires_at": token.expires_at}).data
        return Response(body, status=status.HTTP_201_CREATED, headers=NO_STORE)

    @extend_schema(
        operation_id="token_revoke",
        summary="Revoke the token this request presents",
        description="The token stops working at once, on every replica. A person revokes tokens on /tokens/.",
        tags=["auth"],
        responses={
            204: OpenApiResponse(description="Revoked, in the database and in every replica's view at once."),
            400: OpenApiResponse(
                ErrorSerializer, description='A session presents no token to revoke (code "no_token_presented").'
            ),
        },
    )
    def delete(self, request):
        if request.token_hash is None:
            raise NoTokenPresented()
        token_revoke(token=ApiToken.objects.get(key_hash=request.token_hash))
        return Response(status=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
