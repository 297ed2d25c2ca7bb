"""The seed_users management command."""

from io import StringIO

import pytest

from django.core.management import call_command

from users.models import UserProfile

pytestmark = pytest.mark.django_db


def test_seed_users_twice_creates_each_demo_user_once():
    out = StringIO()
    call_command("seed_users", "--count", "3", stdout=out)
    call_command("seed_users", "--count", "3", stdout=out)

    assert UserProfile.objects.count() == 3
    assert out.getvalue().splitlines() == ["users: 3 created, 3 ensured", "users: 0 created, 3 ensured"]
