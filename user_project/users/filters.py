"""Query-string filters of the user list."""

import django_filters

from .models import UserProfile


class UserFilter(django_filters.FilterSet):
    """Exact, case-insensitive filters by username or email."""

    username = django_filters.CharFilter(field_name="username", lookup_expr="iexact")
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")

    class Meta:
        model = UserProfile
        fields = ["username", "email"]
