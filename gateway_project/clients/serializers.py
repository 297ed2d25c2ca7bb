"""Shapes of the token endpoint."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .tokens import TOKEN_PATTERN


class TokenRequestSerializer(serializers.Serializer):
    """Credentials a client exchanges for a token, and what the token is for."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="What the token is for, e.g. the machine using it."
    )


@extend_schema_field(
    {"type": "string", "pattern": TOKEN_PATTERN.pattern, "description": "The key; shown only this once."}
)
class TokenKeyField(serializers.CharField):
    """A token's key: 40 URL-safe characters."""


class TokenIssuedSerializer(serializers.Serializer):
    """A freshly issued token: the only time its key is shown."""

    token = TokenKeyField()
    client = serializers.CharField(help_text="The API client's username.")
    expires_at = serializers.DateTimeField()
