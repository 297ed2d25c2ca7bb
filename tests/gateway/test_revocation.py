"""Revocation is immediate on every path: each way a token stops being valid drops its cached record in the same
request, once the change commits, and a verification that raced a revocation cannot cache the token again."""

import pytest
from django_redis import get_redis_connection

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client
from django.utils import timezone

from clients.models import ApiClient, ApiToken
from clients.records import token_record_key
from clients.services import token_revoke
from clients.tokens import token_hash


@pytest.fixture
def admin(transactional_db):
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    return admin


@pytest.fixture
def victim(issue_token, authed):
    """A token whose record every replica has cached: it was just used."""
    client, key = issue_token("victim")
    assert authed(key).get("/api/1/1/").status_code == 200
    assert _cached(key)
    return client, key


def _cached(key: str) -> bool:
    return get_redis_connection("default").hget(token_record_key(token_hash(key)), "client") is not None


def test_deactivating_the_user_in_the_admin_drops_the_cached_record(victim, admin, authed):
    client, key = victim
    user = client.user

    response = admin.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": user.username,
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "_save": "Save",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert get_user_model().objects.get(pk=user.pk).is_active is False
    assert not _cached(key)
    assert authed(key).get("/api/1/1/").status_code == 401


def test_deleting_the_user_in_the_admin_drops_the_cached_record(victim, admin, authed):
    client, key = victim

    response = admin.post(f"/admin/auth/user/{client.user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ApiToken.objects.filter(key_hash=token_hash(key)).exists()
    assert not _cached(key)
    assert authed(key).get("/api/1/1/").status_code == 401


def test_deleting_the_api_client_in_the_admin_drops_the_cached_record_and_its_rate_state(victim, admin, authed):
    client, key = victim
    redis = get_redis_connection("default")
    redis.set(f"gw:rl:read:c{client.pk}", "1")  # as a limited client leaves it

    response = admin.post(f"/admin/clients/apiclient/{client.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ApiClient.objects.filter(pk=client.pk).exists()
    assert not _cached(key)
    assert redis.exists(f"gw:rl:read:c{client.pk}", f"gw:rl:write:c{client.pk}") == 0
    assert authed(key).get("/api/1/1/").status_code == 401


def test_deleting_the_token_in_the_admin_drops_its_cached_record(victim, admin, authed):
    _, key = victim
    token = ApiToken.objects.get(key_hash=token_hash(key))

    response = admin.post(f"/admin/clients/apitoken/{token.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not _cached(key)
    assert authed(key).get("/api/1/1/").status_code == 401


def test_deleting_tokens_with_the_admins_bulk_action_drops_every_cached_record(issue_token, authed, admin):
    keys = [issue_token("bulk")[1] for _ in range(3)]
    for key in keys:
        assert authed(key).get("/api/1/1/").status_code == 200
    selected = list(ApiToken.objects.filter(client__user__username="bulk").values_list("pk", flat=True))

    response = admin.post(
        "/admin/clients/apitoken/", {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )

    assert response.status_code == 302
    assert [_cached(key) for key in keys] == [False, False, False]
    assert [authed(key).get("/api/1/1/").status_code for key in keys] == [401, 401, 401]


def test_revoking_through_the_api_drops_the_cached_record(victim, authed):
    _, key = victim

    assert authed(key).delete("/api/auth/token/").status_code == 204
    assert not _cached(key)
    assert authed(key).get("/api/1/1/").status_code == 401


def test_the_record_is_dropped_when_the_change_commits_not_before(victim, transactional_db):
    client, key = victim
    user = client.user

    with transaction.atomic():
        user.is_active = False
        user.save()
        cached_inside = _cached(key)

    assert (cached_inside, _cached(key)) == (True, False)


def test_a_rolled_back_deactivation_keeps_the_record(victim, transactional_db):
    client, key = victim

    with pytest.raises(RuntimeError), transaction.atomic():
        client.user.is_active = False
        client.user.save()
        raise RuntimeError("rolled back")

    assert _cached(key)


def test_a_revocation_between_the_database_read_and_the_record_write_is_not_undone(issue_token, authed, monkeypatch):
    """The race: a verification reads the token from the database (valid), a revocation commits and drops the
    record, then the verification would cache the token it read, for TOKEN_RECORD_TTL_SECONDS."""
    import access.middleware

    _, key = issue_token("raced")
    token = ApiToken.objects.get(key_hash=token_hash(key))
    reads = []
    real = access.middleware.token_authenticate

    def read_then_revoked(*, key):
        found = real(key=key)
        reads.append(found is not None)
        if len(reads) == 1:
            token_revoke(token=token)  # commits and drops the record between this read and the write
        return found

    monkeypatch.setattr(access.middleware, "token_authenticate", read_then_revoked)

    raced = authed(key).get("/api/1/1/")
    after = authed(key).get("/api/1/1/")

    assert reads[:2] == [True, False]  # the stale read was not cached, so the database was asked again
    assert not _cached(key)
    assert (raced.status_code, after.status_code) == (401, 401)
    assert ApiToken.objects.get(pk=token.pk).revoked_at <= timezone.now()
