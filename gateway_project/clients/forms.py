"""The token page's form."""

from django import forms

from .models import ApiToken


class TokenCreateForm(forms.Form):
    """A name for a new token: what it is for, so that it can be told apart and revoked later."""

    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What the token is for, e.g. the machine or script using it.",
    )
