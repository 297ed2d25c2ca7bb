"""POST /api/auth/token/ issues a token for username and password; DELETE revokes the token presented."""

from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from django.contrib.auth import authenticate

from .exceptions import AuthenticationFailed, NoTokenPresented
from .models import ApiToken
from .serializers import TokenRequestSerializer, TokenSerializer
from .services import api_client_get_or_create, token_issue, token_revoke

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenApi(APIView):
    """Authentication and rate limiting happen in AccessMiddleware, before this view."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = TokenRequestSerializer

    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request, **serializer.validated_data)
        if user is None:
            raise AuthenticationFailed("Invalid username or password.")
        client = api_client_get_or_create(username=user.get_username())
        token, key = token_issue(client=client)
        body = TokenSerializer({"token": key, "client": str(client), "expires_at": token.expires_at}).data
        return Response(body, status=status.HTTP_201_CREATED, headers=NO_STORE)

    def delete(self, request):
        if request.token_hash is None:
            raise NoTokenPresented()
        token_revoke(token=ApiToken.objects.get(key_hash=request.token_hash))
        return Response(status=status.HTTP_204_NO_CONTENT, headers=NO_STORE)
