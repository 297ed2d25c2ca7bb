"""users.selectors: reads of the user domain."""

import pytest

from users.selectors import user_get, user_list

pytestmark = pytest.mark.django_db


def test_user_get_returns_none_for_an_unknown_id():
    assert user_get(user_id=424242) is None


def test_user_list_is_ordered_by_id(make_user):
    first, second = make_user(), make_user()

    assert list(user_list()) == [first, second]
