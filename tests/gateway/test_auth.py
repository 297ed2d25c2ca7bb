"""Token authentication at the gateway: hashed, expiring, revocable tokens."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO

import pytest
from django_redis import get_redis_connection

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import OperationalError, connection, connections
from django.test import Client

import clients.services
from clients.models import ApiToken
from clients.tokens import token_hash
from support.token_records import verified_seconds_ago

pytestmark = pytest.mark.django_db


def test_a_request_without_a_token_is_401_with_www_authenticate(anonymous):
    response = anonymous.get("/api/1/1/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Token realm="api"'
    assert response.json() == {
        "error": {
            "code": "not_authenticated",
            "message": "Authentication credentials were not provided.",
            "detail": None,
        }
    }


@pytest.mark.parametrize("header", ["Bearer abc", "Token", "Token short", "Token " + "!" * 40, "Basic dXNlcjpwdw=="])
def test_a_malformed_authorization_header_is_401(header, make_client):
    response = make_client(HTTP_AUTHORIZATION=header).get("/api/1/1/")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Invalid token header."


def test_an_unknown_token_is_401(authed):
    response = authed("A" * 40).get("/api/1/1/")

    assert response.status_code == 401
    assert response.json()["error"] == {"code": "authentication_failed", "message": "Invalid token.", "detail": None}


def test_a_valid_token_reaches_the_services(issue_token, authed):
    _, key = issue_token()

    response = authed(key).get("/api/1/1/")

    assert response.status_code == 200
    assert response.json()["user"]["id"] == 1


def test_an_expired_token_is_401_token_expired(issue_token, authed):
    _, key = issue_token(ttl=timedelta(milliseconds=1))

    response = authed(key).get("/api/1/1/")

    assert response.status_code == 401
    assert response.json()["error"] == {"code": "token_expired", "message": "Token has expired.", "detail": None}


def test_a_token_that_expires_while_its_record_is_cached_is_401_token_expired(issue_token, authed):
    _, key = issue_token(ttl=timedelta(seconds=1))
    assert authed(key).get("/api/1/1/").status_code == 200

    import time

    deadline = time.monotonic() + 5
    response = authed(key).get("/api/1/1/")
    while response.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.1)
        response = authed(key).get("/api/1/1/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_token_creation_returns_a_working_token_that_is_stored_only_as_a_hash(anonymous, authed):
    get_user_model().objects.create_user("alice", password="correct horse battery staple")

    response = anonymous.post(
        "/api/auth/token/",
        json.dumps({"username": "alice", "password": "correct horse battery staple"}),
        "application/json",
    )

    key = response.json()["token"]
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert response.json()["client"] == "alice"
    assert authed(key).get("/api/2/2/").status_code == 200
    stored = ApiToken.objects.get(client__user__username="alice")
    assert stored.key_hash == token_hash(key)
    assert stored.prefix == key[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM clients_apitoken")
        rows = cursor.fetchall()
    assert not any(key in str(value) for row in rows for value in row)


def test_wrong_credentials_are_401_and_repeated_failures_are_throttled(anonymous, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "3/minute"}
    get_user_model().objects.create_user("bob", password="right-password-123")
    payload = json.dumps({"username": "bob", "password": "wrong"})

    statuses = [anonymous.post("/api/auth/token/", payload, "application/json").status_code for _ in range(5)]
    last = anonymous.post("/api/auth/token/", payload, "application/json")

    assert statuses == [401, 401, 401, 429, 429]
    assert last["Retry-After"].isdigit() and int(last["Retry-After"]) >= 1
    assert last.json()["error"]["code"] == "rate_limited"


def test_token_creation_with_missing_fields_is_400(anonymous):
    response = anonymous.post("/api/auth/token/", json.dumps({"username": "x"}), "application/json")

    assert response.status_code == 400
    assert response.json()["error"]["detail"] == {"password": ["This field is required."]}


def test_token_creation_with_json_nested_too_deeply_is_400_not_500(anonymous):
    response = anonymous.post("/api/auth/token/", "[" * 30_000 + "]" * 30_000, "application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_delete_revokes_the_presented_token_at_once(issue_token, authed):
    _, key = issue_token()
    assert authed(key).get("/api/1/1/").status_code == 200  # now cached in Redis

    revoked = authed(key).delete("/api/auth/token/")
    after = authed(key).get("/api/1/1/")

    assert revoked.status_code == 204
    assert after.status_code == 401
    assert ApiToken.objects.get(key_hash=token_hash(key)).revoked_at is not None


def test_a_client_may_hold_several_tokens_and_revoking_one_keeps_the_other(issue_token, authed):
    _, first = issue_token("multi")
    _, second = issue_token("multi")

    authed(first).delete("/api/auth/token/")

    assert authed(first).get("/api/1/1/").status_code == 401
    assert authed(second).get("/api/1/1/").status_code == 200


def test_revoking_in_the_admin_makes_the_token_fail(issue_token, authed):
    _, key = issue_token("victim")
    assert authed(key).get("/api/1/1/").status_code == 200
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    token = ApiToken.objects.get(key_hash=token_hash(key))

    listing = admin.get("/admin/clients/apitoken/")
    action = admin.post("/admin/clients/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True)

    assert listing.status_code == 200 and token.prefix.encode() in listing.content
    assert b"Revoked 1 token(s)." in action.content
    assert authed(key).get("/api/1/1/").status_code == 401


def test_health_and_admin_login_need_no_token(anonymous):
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/readyz").status_code == 200
    assert anonymous.get("/admin/login/").status_code == 200


def test_issue_token_command_prints_only_a_working_token():
    out = StringIO()

    call_command("issue_token", "cli-user", "--rate", "100/minute", stdout=out)

    key = out.getvalue().strip()
    assert len(key) == 40 and "\n" not in key
    token = ApiToken.objects.get(key_hash=token_hash(key))
    assert (token.client.user.username, token.client.rate_limit, token.client.unlimited) == (
        "cli-user",
        "100/minute",
        False,
    )


def test_issue_token_command_rejects_a_bad_rate():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Invalid rate 'fast'"):
        call_command("issue_token", "cli-user", "--rate", "fast", stdout=StringIO())


# Guessing tokens: the address pays before the database is asked.


@pytest.fixture
def counted_lookups(monkeypatch):
    """How many times the database was asked about a token."""
    import access.middleware

    lookups = []
    real = access.middleware.token_authenticate

    def counted(*, key):
        lookups.append(key)
        return real(key=key)

    monkeypatch.setattr(access.middleware, "token_authenticate", counted)
    return lookups


def test_unknown_tokens_are_metered_per_address_before_the_database_is_asked(authed, settings, counted_lookups):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "3/minute"}

    responses = [authed(f"{n:040d}").get("/api/1/1/") for n in range(5)]

    assert [response.status_code for response in responses] == [401, 401, 401, 429, 429]
    assert len(counted_lookups) == 3
    limited = responses[3]
    assert limited.json()["error"] == {
        "code": "rate_limited",
        "message": "Too many authentication attempts from this address; retry later.",
        "detail": None,
    }
    assert 19 <= int(limited["Retry-After"]) <= 20
    assert limited["RateLimit-Policy"] == '"auth";q=3;w=60'


def test_a_correct_token_is_refused_once_its_address_has_spent_the_budget_on_guesses(
    issue_token, authed, settings, counted_lookups
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/minute"}
    _, key = issue_token("guessed")
    guesses = [authed(f"{n:040d}").get("/api/1/1/").status_code for n in range(2)]

    guessed_right = authed(key).get("/api/1/1/")

    assert guesses == [401, 401]
    assert guessed_right.status_code == 429
    assert len(counted_lookups) == 2  # the correct guess never reached the database


def test_the_budget_is_per_address(authed, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "1/minute"}

    first = [authed(f"{n:040d}", REMOTE_ADDR="192.0.2.1").get("/api/1/1/").status_code for n in range(2)]
    other = authed("9" * 40, REMOTE_ADDR="192.0.2.2").get("/api/1/1/").status_code

    assert (first, other) == ([401, 429], 401)


def test_verifying_a_valid_token_gives_its_step_back(issue_token, authed, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/minute"}
    keys = [issue_token(f"fresh-{n}")[1] for n in range(5)]

    first_uses = [authed(key).get("/api/1/1/").status_code for key in keys]
    guesses = [authed(f"{n:040d}").get("/api/1/1/").status_code for n in range(3)]

    assert first_uses == [200] * 5
    assert guesses == [401, 401, 429]


@pytest.fixture
def slow_lookups(monkeypatch):
    """The database's answers about tokens, each held until `release` is set (or 5 s); counts the lookups."""
    import access.middleware

    lookups, release = [], threading.Event()
    real = access.middleware.token_authenticate

    def slow(*, key):
        lookups.append(key)
        release.wait(5)
        return real(key=key)

    monkeypatch.setattr(access.middleware, "token_authenticate", slow)
    return lookups, release


def sent_together(client, count: int) -> list:
    """`count` GETs of one aggregate from `count` threads at once."""
    barrier = threading.Barrier(count)

    def one(_):
        barrier.wait(5)
        try:
            return client.get("/api/1/1/")
        finally:
            connections.close_all()  # Django's test client served it on this thread (the django way)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_a_fresh_tokens_first_requests_sent_together_ask_the_database_once(issue_token, authed, settings, slow_lookups):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/minute"}
    lookups, release = slow_lookups
    _, key = issue_token("bursting", unlimited=True)
    client = authed(key)

    # The others arrive while the first is verifying; they wait for its record instead of each paying a guess.
    threading.Timer(0.5, release.set).start()
    responses = sent_together(client, 6)

    assert [response.status_code for response in responses] == [200] * 6
    assert len(lookups) == 1
    # The verification gave its one step back: the address still has its whole budget for guesses.
    assert [authed(f"{n:040d}").get("/api/1/1/").status_code for n in range(3)] == [401, 401, 429]


def test_requests_waiting_on_an_unknown_tokens_check_are_each_metered_once_it_fails(authed, settings, slow_lookups):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "3/minute"}
    lookups, release = slow_lookups

    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    responses = sent_together(authed("7" * 40), 5)

    # The first check fails, and the waiters stop waiting at once: each then pays its own guess.
    assert sorted(response.status_code for response in responses) == [401, 401, 401, 429, 429]
    assert len(lookups) == 3
    assert time.monotonic() - started < 2


def test_an_expired_token_is_checked_once_then_answered_from_its_record(issue_token, authed, counted_lookups):
    _, key = issue_token(ttl=timedelta(milliseconds=1))

    statuses = [authed(key).get("/api/1/1/").status_code for _ in range(3)]

    assert statuses == [401, 401, 401]
    assert len(counted_lookups) == 1


# Password guessing: per address (the access step's "auth" budget) and per username (svc_common.login_throttle).


def test_token_creation_guesses_are_limited_per_username_from_every_address(make_client, settings):
    settings.RATE_LIMIT_LOGIN = "2/minute"
    get_user_model().objects.create_user("carol", password="right-password-123")
    wrong = json.dumps({"username": "carol", "password": "wrong"})
    right = json.dumps({"username": "carol", "password": "right-password-123"})

    spread = [
        make_client(REMOTE_ADDR=f"192.0.2.{n}").post("/api/auth/token/", wrong, "application/json").status_code
        for n in (1, 2)
    ]
    refused = make_client(REMOTE_ADDR="192.0.2.3").post("/api/auth/token/", right, "application/json")
    other = make_client(REMOTE_ADDR="192.0.2.3").post(
        "/api/auth/token/", json.dumps({"username": "dave", "password": "x"}), "application/json"
    )

    assert spread == [401, 401]
    assert refused.status_code == 429
    assert refused.json()["error"] == {
        "code": "rate_limited",
        "message": "Too many failed logins for this username; retry later.",
        "detail": None,
    }
    assert refused["Retry-After"] == "30"
    assert other.status_code == 401


def test_successful_token_creations_do_not_spend_the_usernames_budget(anonymous, settings):
    settings.RATE_LIMIT_LOGIN = "2/minute"
    get_user_model().objects.create_user("erin", password="right-password-123")
    right = json.dumps({"username": "erin", "password": "right-password-123"})

    statuses = [anonymous.post("/api/auth/token/", right, "application/json").status_code for _ in range(4)]

    assert statuses == [201, 201, 201, 201]


def test_the_gateway_admin_login_answers_a_429_page_once_the_guesses_are_spent(settings):
    settings.RATE_LIMIT_LOGIN = "2/minute"
    get_user_model().objects.create_superuser("root", "root@example.com", "right-password-123")
    browser = Client(REMOTE_ADDR="192.0.2.1")

    statuses = [browser.post("/admin/login/", {"username": "root", "password": "no"}).status_code for _ in range(2)]
    refused = browser.post("/admin/login/", {"username": "root", "password": "right-password-123"})

    assert statuses == [200, 200]
    assert (refused.status_code, refused["Retry-After"]) == (429, "30")
    assert refused["Content-Type"] == "text/html; charset=utf-8"


def test_in_kubernetes_each_client_behind_haproxy_spends_its_own_budget(authed, settings):
    """Every request reaches a replica from an HAProxy pod. Trusting only 127.0.0.1 made that pod the client, so
    a few bad tokens from anyone blocked token checks and creation for everybody."""
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / "deploy" / "k8s" / "config.env"
    trusted = next(line.split("=", 1)[1] for line in config.read_text().splitlines() if line.startswith("TRUSTED_"))
    settings.TRUSTED_PROXIES = trusted.split(",")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/minute"}
    haproxy_pod = {"REMOTE_ADDR": "10.244.1.7"}

    attacker = [
        authed(f"{n:040d}", HTTP_X_FORWARDED_FOR="203.0.113.66", **haproxy_pod).get("/api/1/1/").status_code
        for n in range(3)
    ]
    bystander = authed("7" * 40, HTTP_X_FORWARDED_FOR="198.51.100.5", **haproxy_pod).get("/api/1/1/")

    assert attacker == [401, 401, 429]
    assert bystander.status_code == 401  # its own budget: checked, not refused


def database_refused(**kwargs):
    """Stands in for token_unrevoked_get while PostgreSQL refuses connections (the e2e fault tests stop it)."""
    raise OperationalError("connection to server at 127.0.0.1 refused")


def test_a_token_check_that_meets_a_database_outage_is_a_503_that_costs_the_address_no_guess(
    issue_token, authed, settings, monkeypatch
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/minute"}
    _, key = issue_token("outage")

    with monkeypatch.context() as outage:
        outage.setattr(clients.services, "token_unrevoked_get", database_refused)
        during = [authed(key).get("/api/1/1/") for _ in range(4)]
    after = authed(key).get("/api/1/1/")

    assert [r.status_code for r in during] == [503, 503, 503, 503]
    assert {r["Retry-After"] for r in during} == {"1"}
    assert during[0].json()["error"]["code"] == "database_unavailable"
    assert after.status_code == 200


def _records_verified_seconds_ago(seconds: int) -> None:
    assert verified_seconds_ago(get_redis_connection("default"), seconds) == 1


def test_while_the_database_is_unreachable_a_token_verified_within_the_grace_is_served_and_after_it_is_a_503(
    issue_token, authed, settings, monkeypatch
):
    settings.TOKEN_RECORD_GRACE_SECONDS = 600
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": "2/minute"}
    _, key = issue_token("grace")
    first = authed(key).get("/api/1/1/")  # verified in the database; the page is cached
    _records_verified_seconds_ago(300)

    with monkeypatch.context() as outage:
        outage.setattr(clients.services, "token_unrevoked_get", database_refused)
        within = [authed(key).get("/api/1/1/") for _ in range(3)]
        _records_verified_seconds_ago(601)
        past = authed(key).get("/api/1/1/")

    assert first.status_code == 200
    assert [(r.status_code, r["X-Cache"]) for r in within] == [(200, "HIT")] * 3
    assert within[0].content == first.content
    assert (past.status_code, past.json()["error"]["code"]) == (503, "database_unavailable")
    # No guess was spent: the address's two "auth" steps are still there for a token to verify.
    assert authed(key).get("/api/1/1/").status_code == 200


def test_with_the_database_up_a_record_past_its_verification_is_checked_there_again(issue_token, authed, settings):
    settings.TOKEN_RECORD_GRACE_SECONDS = 600
    _, key = issue_token("grace-revoked")
    assert authed(key).get("/api/1/1/").status_code == 200
    _records_verified_seconds_ago(300)
    with connection.cursor() as cursor:  # revoked behind the gateway's back: no signal drops the record
        cursor.execute("UPDATE clients_apitoken SET revoked_at = now()")

    assert authed(key).get("/api/1/1/").status_code == 401
