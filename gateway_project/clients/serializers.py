"""Shapes of the token endpoint."""

from rest_framework import serializers


class TokenRequestSerializer(serializers.Serializer):
    """Credentials a client exchanges for a token."""

    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    """A freshly issued token: the only time its key is shown."""

    token = serializers.CharField()
    client = serializers.CharField()
    expires_at = serializers.DateTimeField()
