"""The user domain's data: one profile per API user."""

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models


class UserProfile(models.Model):
    username = models.CharField(max_length=150, unique=True, validators=[UnicodeUsernameValidator()])
    email = models.EmailField(max_length=254, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "user profile"

    def __str__(self) -> str:
        return self.username
