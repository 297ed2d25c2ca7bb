"""users.services: writes of the user domain."""

import pytest

from svc_common.exceptions import Conflict
from users.models import UserProfile
from users.services import user_create, user_delete, user_seed, user_update

pytestmark = pytest.mark.django_db


def test_user_create_stores_a_lowercased_email():
    user = user_create(username="ada", email="Ada@Example.COM", full_name="Ada Lovelace")

    assert UserProfile.objects.get(pk=user.pk).email == "ada@example.com"
    assert user.full_name == "Ada Lovelace"


def test_user_create_with_a_taken_username_raises_conflict_and_saves_nothing(make_user):
    make_user(username="ada", email="ada@example.com")

    with pytest.raises(Conflict):
        user_create(username="ada", email="other@example.com")

    assert UserProfile.objects.count() == 1


def test_user_update_changes_only_the_given_fields(make_user):
    user = make_user(username="ada", full_name="Ada")

    user_update(user=user, full_name="Ada Lovelace")

    user.refresh_from_db()
    assert (user.username, user.full_name) == ("ada", "Ada Lovelace")


def test_user_update_to_a_taken_email_raises_conflict(make_user):
    make_user(email="taken@example.com")
    user = make_user(email="free@example.com")

    with pytest.raises(Conflict):
        user_update(user=user, email="TAKEN@example.com")

    assert UserProfile.objects.get(pk=user.pk).email == "free@example.com"


def test_user_delete_removes_the_row(make_user):
    user = make_user()

    user_delete(user=user)

    assert not UserProfile.objects.filter(pk=user.pk).exists()


def test_user_seed_is_idempotent():
    assert user_seed(count=5) == 5
    assert user_seed(count=7) == 2
    assert user_seed(count=7) == 0
    assert sorted(UserProfile.objects.values_list("username", flat=True)) == sorted(f"user_{i}" for i in range(1, 8))
