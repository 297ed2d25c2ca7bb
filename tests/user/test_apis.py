"""The user API over DRF: CRUD, filters, pagination and bad input."""

import json

import pytest

from users.models import UserProfile

pytestmark = pytest.mark.django_db


def test_list_is_paginated_with_the_default_page_size(api_client, make_user):
    for _ in range(25):
        make_user()

    body = api_client.get("/api/users/").json()

    assert body["count"] == 25
    assert len(body["results"]) == 20
    assert body["next"] == "http://testserver/api/users/?page=2"


def test_page_size_above_the_cap_is_capped_at_100(api_client, make_user):
    for _ in range(105):
        make_user()

    body = api_client.get("/api/users/?page_size=1000").json()

    assert len(body["results"]) == 100


def test_retrieve_returns_every_public_field(api_client, make_user):
    user = make_user(username="ada", email="ada@example.com", full_name="Ada Lovelace")

    body = api_client.get(f"/api/users/{user.pk}/").json()

    assert set(body) == {"id", "username", "email", "full_name", "created_at", "updated_at"}
    assert (body["id"], body["username"], body["email"], body["full_name"]) == (
        user.pk,
        "ada",
        "ada@example.com",
        "Ada Lovelace",
    )


def test_retrieve_without_trailing_slash_is_served_without_redirect(api_client, make_user):
    user = make_user()

    response = api_client.get(f"/api/users/{user.pk}")

    assert response.status_code == 200


def test_unknown_id_is_404_in_the_error_shape(api_client):
    response = api_client.get("/api/users/999999/")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "User 999999 does not exist.", "detail": None}}


@pytest.mark.parametrize("bad_id", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_non_numeric_or_oversized_id_is_a_json_404(api_client, bad_id):
    response = api_client.get(f"/api/users/{bad_id}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_create_returns_201_and_the_new_profile(api_client):
    response = api_client.post(
        "/api/users/", {"username": "grace", "email": "grace@example.com", "full_name": "Grace Hopper"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["username"] == "grace"
    assert UserProfile.objects.get(username="grace").email == "grace@example.com"


def test_create_ignores_id_and_timestamps_sent_by_the_client(api_client):
    response = api_client.post(
        "/api/users/",
        {"id": 777, "username": "grace", "email": "g@example.com", "created_at": "2000-01-01T00:00:00Z"},
        format="json",
    )

    body = response.json()
    assert response.status_code == 201
    assert body["id"] != 777
    assert not body["created_at"].startswith("2000")


def test_duplicate_username_is_400_with_the_field_named_and_nothing_saved(api_client, make_user):
    make_user(username="grace", email="grace@example.com")

    response = api_client.post("/api/users/", {"username": "grace", "email": "new@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["detail"] == {"username": ["user profile with this username already exists."]}
    assert UserProfile.objects.count() == 1


def test_invalid_email_is_400(api_client):
    response = api_client.post("/api/users/", {"username": "x", "email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"email": ["Enter a valid email address."]}
    assert UserProfile.objects.count() == 0


def test_malformed_json_is_400_parse_error(api_client):
    response = api_client.generic("POST", "/api/users/", '{"username": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_json_nested_deeper_than_the_decoder_recurses_is_400_not_500(api_client):
    too_deep = "[" * 30_000 + "]" * 30_000  # under the 64 KiB body cap

    response = api_client.generic("POST", "/api/users/", too_deep, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "parse_error",
        "message": "JSON parse error - the document is nested too deeply.",
        "detail": None,
    }


def test_body_over_the_cap_is_413_and_saves_nothing(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    payload = json.dumps({"username": "big", "email": "big@example.com", "full_name": "x" * 2000})

    response = api_client.generic("POST", "/api/users/", payload, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert UserProfile.objects.count() == 0


def test_put_replaces_and_patch_updates_one_field(api_client, make_user):
    user = make_user(username="old", email="old@example.com", full_name="Old")

    put = api_client.put(f"/api/users/{user.pk}/", {"username": "new", "email": "new@example.com"}, format="json")
    patch = api_client.patch(f"/api/users/{user.pk}/", {"full_name": "Newer"}, format="json")

    assert put.status_code == 200
    assert patch.json()["full_name"] == "Newer"
    user.refresh_from_db()
    assert (user.username, user.email, user.full_name) == ("new", "new@example.com", "Newer")


def test_put_without_required_fields_is_400_and_changes_nothing(api_client, make_user):
    user = make_user(username="keep")

    response = api_client.put(f"/api/users/{user.pk}/", {"full_name": "x"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["detail"]) == {"username", "email"}
    user.refresh_from_db()
    assert user.username == "keep"


def test_delete_is_204_then_404(api_client, make_user):
    user = make_user()

    assert api_client.delete(f"/api/users/{user.pk}/").status_code == 204
    assert api_client.get(f"/api/users/{user.pk}/").status_code == 404


def test_search_filter_and_ordering(api_client, make_user):
    make_user(username="alice", email="alice@example.com")
    make_user(username="bob", email="bob@example.com")
    make_user(username="alicia", email="alicia@example.org")

    search = api_client.get("/api/users/?search=ali&ordering=-username").json()
    by_email = api_client.get("/api/users/?email=BOB@example.com").json()
    by_username = api_client.get("/api/users/?username=alice").json()

    assert [u["username"] for u in search["results"]] == ["alicia", "alice"]
    assert [u["username"] for u in by_email["results"]] == ["bob"]
    assert [u["username"] for u in by_username["results"]] == ["alice"]


def test_unknown_route_is_a_json_404(api_client):
    response = api_client.get("/nope/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_browsable_api_renders_html_for_browsers(api_client, make_user):
    make_user()

    response = api_client.get("/api/users/", HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"User List" in response.content


def test_ordering_by_a_unique_field_pages_by_cursor_without_a_tie_breaker(api_client, make_user):
    for name in ["carol", "alice", "dave", "bob"]:
        make_user(username=name)

    first = api_client.get("/api/users/?ordering=-username&page_size=3&cursor=").json()
    second = api_client.get(first["next"]).json()

    assert [u["username"] for u in first["results"]] == ["dave", "carol", "bob"]
    assert [u["username"] for u in second["results"]] == ["alice"]
    assert second["next"] is None


@pytest.mark.parametrize("search", ["al", "@.x", "a b"])
def test_a_search_term_without_three_letters_or_digits_in_a_row_is_a_400(api_client, search):
    response = api_client.get("/api/users/", {"search": search})

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"search": ["Each search term needs 3 letters or digits in a row."]}
