"""A person's session through the access step (access.sessions): authenticated by Django, rate limited and logged
as their API client, one bucket with the client's tokens, and CSRF-checked on writes."""

import json
import logging
import secrets

import pytest
from django_redis import get_redis_connection

from django.contrib.sessions.models import Session

from clients.services import api_client_update

pytestmark = pytest.mark.django_db

JSON = "application/json"


def new_product() -> str:
    return json.dumps({"name": "Session kettle", "sku": f"SESSION-{secrets.token_hex(4)}", "price": "3.50"})


def test_a_logged_in_person_reads_through_the_gateway_without_a_token(log_in):
    person = log_in()

    response = person.browser.get("/api/products/2/")

    assert response.status_code == 200
    assert response.json()["id"] == 2
    assert response["RateLimit-Policy"] == '"read";q=600;w=60'


def test_a_session_and_a_token_of_one_client_share_one_bucket(log_in, issue_token, authed):
    person = log_in("shared-bucket", rate="4/minute")
    _, key = issue_token("shared-bucket", rate="4/minute")
    token = authed(key)

    responses = [token.get("/api/1/1/"), person.browser.get("/api/1/1/"), token.get("/api/1/1/")]
    responses += [person.browser.get("/api/1/1/"), token.get("/api/1/1/"), person.browser.get("/api/1/1/")]

    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429, 429]
    assert [r["RateLimit"].split(";")[1] for r in responses] == ["r=3", "r=2", "r=1", "r=0", "r=0", "r=0"]
    assert set(get_redis_connection("default").keys("gw:rl:read:*")) == {f"gw:rl:read:c{person.api_client.pk}".encode()}


def test_reads_and_writes_of_a_session_are_metered_separately(log_in, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "1/minute", "write": "1/minute"}
    person = log_in()
    csrf = {"HTTP_X_CSRFTOKEN": person.csrf_token}

    reads = [person.browser.get("/api/products/1/").status_code for _ in range(2)]
    writes = [person.browser.patch("/api/products/1/", "{}", JSON, **csrf).status_code for _ in range(2)]

    assert reads == [200, 429]
    assert writes == [200, 429]


def test_a_session_request_is_logged_with_its_client_like_a_token_request(log_in, issue_token, authed, caplog):
    person = log_in("logged")
    _, key = issue_token("logged")
    caplog.set_level(logging.INFO, logger="svc_common.request")

    person.browser.get("/api/products/3/")
    authed(key).get("/api/products/3/")

    lines = [r for r in caplog.records if r.name == "svc_common.request" and r.path == "/api/products/3/"]
    assert [(r.status, r.route, r.client_id) for r in lines] == [(200, "proxy", person.api_client.pk)] * 2


def test_a_session_write_without_the_csrf_token_is_403_and_reaches_no_service(log_in, services):
    person = log_in()
    before = services.request_count("products", "/api/products/", "POST")

    missing = person.browser.post("/api/products/", new_product(), JSON)
    wrong = person.browser.post("/api/products/", new_product(), JSON, HTTP_X_CSRFTOKEN="x" * 32)
    delete = person.browser.delete("/api/products/1/")

    assert [r.status_code for r in (missing, wrong, delete)] == [403, 403, 403]
    assert missing.json()["error"] == {
        "code": "csrf_failed",
        "message": "CSRF Failed: CSRF token missing.",
        "detail": None,
    }
    assert wrong.json()["error"]["message"] == "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header incorrect."
    assert services.request_count("products", "/api/products/", "POST") == before


def test_a_session_write_with_the_csrf_token_is_forwarded(log_in):
    person = log_in()

    created = person.browser.post("/api/products/", new_product(), JSON, HTTP_X_CSRFTOKEN=person.csrf_token)
    invalid = person.browser.post("/api/products/", "{}", JSON, HTTP_X_CSRFTOKEN=person.csrf_token)

    assert created.status_code == 201
    assert created.json()["name"] == "Session kettle"
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == "invalid"


def test_a_token_write_needs_no_csrf_token_even_beside_a_session_cookie(log_in, issue_token):
    _, key = issue_token("token-writer")
    person = log_in("cookie-holder", HTTP_AUTHORIZATION=f"Token {key}")

    response = person.browser.patch("/api/products/4/", '{"stock": 7}', JSON)

    assert response.status_code == 200
    assert response.json()["stock"] == 7


def test_a_logged_out_session_is_refused_with_401(log_in):
    person = log_in()
    Session.objects.all().delete()

    response = person.browser.get("/api/products/1/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_deactivated_person_is_refused_at_once(log_in):
    person = log_in()
    assert person.browser.get("/api/products/1/").status_code == 200
    person.api_client.user.is_active = False
    person.api_client.user.save()

    assert person.browser.get("/api/products/1/").status_code == 401


def test_a_new_limit_applies_to_sessions_at_once(log_in):
    person = log_in(rate="100/minute")
    assert person.browser.get("/api/products/1/")["RateLimit-Policy"] == '"read";q=100;w=60'

    api_client_update(client=person.api_client, rate_limit="5/minute")

    assert person.browser.get("/api/products/1/")["RateLimit-Policy"] == '"read";q=5;w=60'


def test_an_unlimited_client_is_unlimited_in_its_sessions_too(log_in):
    person = log_in(unlimited=True)

    response = person.browser.get("/api/products/1/")

    assert response.status_code == 200
    assert "RateLimit" not in response


def test_a_session_cannot_revoke_a_token_it_does_not_present(log_in):
    person = log_in()

    response = person.browser.delete("/api/auth/token/", HTTP_X_CSRFTOKEN=person.csrf_token)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "no_token_presented"


def test_with_redis_unreachable_a_session_is_served_unmetered_or_refused_per_setting(log_in, settings, point_redis_at):
    person = log_in()
    point_redis_at()

    fail_open = person.browser.get("/api/products/1/")
    settings.RATE_LIMIT_FAIL_OPEN = False
    fail_closed = person.browser.get("/api/products/1/")

    assert fail_open.status_code == 200
    assert "RateLimit" not in fail_open
    assert fail_closed.status_code == 429
    assert fail_closed.json()["error"]["code"] == "rate_limiter_unavailable"
