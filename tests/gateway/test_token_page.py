"""The token page (clients.views): a logged-in person creates, names, lists (prefix only) and revokes their own API
client's tokens; a new key is shown once. And the login it sits behind (Django's, through DRF's template), and
the demo user `up` makes to log in as."""

import re
from io import StringIO

import pytest

from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from clients.models import ApiToken
from clients.services import api_client_get_or_create, token_issue
from clients.tokens import TOKEN_PATTERN

# Transactional: a revocation drops the cached record once it commits, as in a real request.
pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-enough-password-1"  # noqa: S105


@pytest.fixture
def person() -> Client:
    """A browser logged in, through the login form, as a gateway user with a password and no client yet."""
    get_user_model().objects.create_user("page-person", password=PASSWORD)
    browser = Client(enforce_csrf_checks=True)
    form = browser.get("/api-auth/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    logged_in = browser.post(
        "/api-auth/login/?next=/tokens/",
        {"username": "page-person", "password": PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    assert (logged_in.status_code, logged_in["Location"]) == (302, "/tokens/")
    return browser


def page_csrf(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode()).group(1)


def test_the_token_page_sends_a_visitor_to_the_login(db):
    response = Client().get("/tokens/")

    assert (response.status_code, response["Location"]) == (302, "/api-auth/login/?next=/tokens/")


def test_a_wrong_password_at_the_login_form_logs_nobody_in(db):
    get_user_model().objects.create_user("page-person", password=PASSWORD)
    browser = Client()

    refused = browser.post("/api-auth/login/", {"username": "page-person", "password": "wrong"})

    assert refused.status_code == 200
    assert "Please enter a correct username and password." in refused.content.decode()
    assert browser.get("/tokens/").status_code == 302


def test_a_new_token_is_named_shown_once_and_works(person):
    page = person.get("/tokens/")

    created = person.post("/tokens/", {"name": "laptop", "csrfmiddlewaretoken": page_csrf(page)})
    key = re.search(r'<pre id="new-token">([^<]+)</pre>', created.content.decode()).group(1)
    listed = person.get("/tokens/").content.decode()
    used = Client().get("/api/products/1/", HTTP_AUTHORIZATION=f"Token {key}")

    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    assert TOKEN_PATTERN.match(key)
    token = ApiToken.objects.get()
    assert (token.name, token.prefix, token.client.user.username) == ("laptop", key[:8], "page-person")
    assert key not in listed
    assert f"<code>{key[:8]}…</code>" in listed
    assert token.key_hash not in listed
    assert used.status_code == 200


def test_the_list_shows_only_the_persons_own_tokens_with_their_state(person):
    person.get("/tokens/")
    mine = api_client_get_or_create(username="page-person")
    active, _ = token_issue(client=mine, name="active one")
    revoked, _ = token_issue(client=mine, name="revoked one")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=revoked.created_at)
    theirs, _ = token_issue(client=api_client_get_or_create(username="someone-else"), name="not yours")

    listed = person.get("/tokens/").content.decode()
    rows = dict(re.findall(r'<tr data-token-prefix="([^"]+)">.*?<td class="state">(\w+)</td>', listed, re.S))

    assert rows == {active.prefix: "active", revoked.prefix: "revoked"}
    assert "not yours" not in listed


@pytest.mark.parametrize("name, error", [("", "This field is required."), ("x" * 101, "at most 100 characters")])
def test_a_token_needs_a_name_of_at_most_100_characters(person, name, error):
    page = person.get("/tokens/")

    response = person.post("/tokens/", {"name": name, "csrfmiddlewaretoken": page_csrf(page)})

    assert response.status_code == 400
    assert error in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_creating_a_token_without_the_csrf_token_is_refused(person):
    response = person.post("/tokens/", {"name": "forged"})

    assert response.status_code == 403
    assert ApiToken.objects.count() == 0


def test_a_person_revokes_their_own_token_and_it_stops_working_at_once(person):
    page = person.get("/tokens/")
    created = person.post("/tokens/", {"name": "short-lived", "csrfmiddlewaretoken": page_csrf(page)})
    key = re.search(r'<pre id="new-token">([^<]+)</pre>', created.content.decode()).group(1)
    token = ApiToken.objects.get()
    assert Client().get("/api/products/1/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200

    revoked = person.post(f"/tokens/{token.pk}/revoke/", {"csrfmiddlewaretoken": page_csrf(created)})
    after = Client().get("/api/products/1/", HTTP_AUTHORIZATION=f"Token {key}")
    listed = person.get("/tokens/").content.decode()

    assert (revoked.status_code, revoked["Location"]) == (302, "/tokens/")
    assert after.status_code == 401
    assert f"Revoked the token {key[:8]}… (short-lived)." in listed


def test_another_clients_token_cannot_be_revoked_from_the_page(person):
    page = person.get("/tokens/")
    theirs, key = token_issue(client=api_client_get_or_create(username="someone-else"), name="not yours")

    response = person.post(f"/tokens/{theirs.pk}/revoke/", {"csrfmiddlewaretoken": page_csrf(page)})

    assert response.status_code == 404
    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


def test_logging_out_ends_the_session(person):
    page = person.get("/tokens/")

    logged_out = person.post("/api-auth/logout/", {"csrfmiddlewaretoken": page_csrf(page)})

    assert (logged_out.status_code, logged_out["Location"]) == (302, "/")
    assert person.get("/tokens/").status_code == 302
    assert person.get("/api/products/", HTTP_ACCEPT="application/json").status_code == 401


def test_the_demo_user_command_makes_a_person_who_can_log_in_and_resets_their_password(monkeypatch):
    monkeypatch.setenv("DEMO_USER_PASSWORD", PASSWORD)
    call_command("demo_user", "demo", stdout=StringIO())
    monkeypatch.setenv("DEMO_USER_PASSWORD", "another-long-password-2")
    call_command("demo_user", "demo", stdout=StringIO())

    user = get_user_model().objects.get(username="demo")
    assert (user.is_staff, user.is_superuser, user.api_client.tokens.count()) == (False, False, 0)
    assert user.check_password("another-long-password-2")
    assert Client().login(username="demo", password="another-long-password-2")


def test_the_demo_user_command_needs_a_password(monkeypatch):
    monkeypatch.delenv("DEMO_USER_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="Set DEMO_USER_PASSWORD"):
        call_command("demo_user", "demo")
