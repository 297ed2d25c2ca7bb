"""Input and output shapes of the user API."""

from rest_framework import serializers

from .models import UserProfile


class UserInputSerializer(serializers.ModelSerializer):
    """What a client may write: never id or timestamps."""

    class Meta:
        model = UserProfile
        fields = ["username", "email", "full_name"]


class UserOutputSerializer(serializers.ModelSerializer):
    """What the API returns."""

    class Meta:
        model = UserProfile
        fields = ["id", "username", "email", "full_name", "created_at", "updated_at"]
        read_only_fields = fields
