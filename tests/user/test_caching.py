"""The user object cache: served from Redis after the first read, fresh after a write."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_retrieve_is_served_from_redis_after_the_first_read(api_client, make_user, django_assert_num_queries):
    user = make_user(full_name="Cached")
    api_client.get(f"/api/users/{user.pk}/")

    with django_assert_num_queries(0):
        assert api_client.get(f"/api/users/{user.pk}/").json()["full_name"] == "Cached"


def test_a_put_is_visible_on_the_next_read(api_client, make_user, django_capture_on_commit_callbacks):
    user = make_user(username="before", email="before@example.com")
    api_client.get(f"/api/users/{user.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        api_client.put(f"/api/users/{user.pk}/", {"username": "after", "email": "after@example.com"}, format="json")

    assert api_client.get(f"/api/users/{user.pk}/").json()["username"] == "after"


def test_a_delete_makes_the_next_read_404(api_client, make_user, django_capture_on_commit_callbacks):
    user = make_user()
    api_client.get(f"/api/users/{user.pk}/")

    with django_capture_on_commit_callbacks(execute=True):
        api_client.delete(f"/api/users/{user.pk}/")

    assert api_client.get(f"/api/users/{user.pk}/").status_code == 404
