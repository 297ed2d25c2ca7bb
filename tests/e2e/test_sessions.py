"""People and programs through HAProxy and both gateway replicas: content negotiation, a session's CSRF check, and
one rate-limit bucket for a session and a token of one API client (access.sessions)."""

import re
import secrets

import httpx
import pytest
import redis

from browser.staff import create_person

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def person(stack):
    return create_person(stack, "session")


def logged_in(stack, person: tuple[str, str]) -> tuple[httpx.Client, str]:
    """A client with a session from the login form, and the CSRF token its pages carry."""
    client = httpx.Client(base_url=stack.url("gateway"), timeout=10)
    form = client.get("/api-auth/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    response = client.post(
        "/api-auth/login/?next=/api/",
        data={"username": person[0], "password": person[1], "csrfmiddlewaretoken": csrf},
    )
    assert (response.status_code, response.headers["Location"]) == (302, "/api/")
    return client, client.cookies["csrftoken"]


@pytest.mark.parametrize(
    "path, accept, content_type, cached",
    [
        ("/", BROWSER, "text/html; charset=utf-8", False),
        ("/", "application/json", "application/json", False),
        ("/", None, "application/json", False),
        ("/api/", BROWSER, "text/html; charset=utf-8", False),
        ("/api/", "application/json", "application/json", False),
        ("/api/products/2/", BROWSER, "text/html; charset=utf-8", False),
        ("/api/products/2/", "application/json", "application/json", True),
        ("/api/products/2/", None, "application/json", True),
        ("/api/1/2/", BROWSER, "text/html; charset=utf-8", False),
        ("/api/1/2/", "*/*", "application/json", True),
    ],
)
def test_each_replica_gives_html_to_browsers_and_json_to_programs(stack, path, accept, content_type, cached):
    headers = {**stack.auth_headers(), **({"Accept": accept} if accept else {})}

    answers = [httpx.get(f"{stack.url('gateway')}{path}", headers=headers, timeout=10) for _ in range(4)]

    assert [(a.status_code, a.headers["Content-Type"]) for a in answers] == [(200, content_type)] * 4
    # Only JSON goes through the page cache: a page rendered for a person is never stored or served from it.
    assert [a.headers.get("X-Cache") for a in answers[1:]] == (["HIT"] * 3 if cached else [None] * 3)


def test_a_session_write_needs_the_csrf_token_a_token_write_does_not(stack, person):
    client, csrf = logged_in(stack, person)
    body = {"name": "E2E session kettle", "sku": f"E2E-SESSION-{secrets.token_hex(4)}", "price": "2.00"}

    refused = client.post("/api/products/", json=body)
    created = client.post("/api/products/", json=body, headers={"X-CSRFToken": csrf})
    by_token = httpx.patch(
        f"{stack.url('gateway')}/api/products/{created.json()['id']}/",
        json={"stock": 9},
        headers=stack.auth_headers(),
        timeout=10,
    )

    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "csrf_failed")
    assert created.status_code == 201
    assert (by_token.status_code, by_token.json()["stock"]) == (200, 9)


def test_a_session_and_a_token_of_one_client_share_one_bucket_across_replicas(stack):
    someone = create_person(stack, "bucket")
    key = stack.token(someone[0], "--rate", "6/minute")
    client, _ = logged_in(stack, someone)
    token = {"Authorization": f"Token {key}"}
    buckets = redis.Redis.from_url(stack.env["REDIS_URL"])
    before = set(buckets.keys("gw:rl:read:c*"))

    answers = []
    for _ in range(4):
        answers.append(httpx.get(f"{stack.url('gateway')}/api/products/3/", headers=token, timeout=10))
        answers.append(client.get("/api/products/3/", headers={"Accept": "application/json"}))

    assert [a.status_code for a in answers] == [200] * 6 + [429] * 2
    assert [a.headers["RateLimit"].split(";")[1] for a in answers[:6]] == [f"r={n}" for n in range(5, -1, -1)]
    assert {a.headers["RateLimit-Policy"] for a in answers} == {'"read";q=6;w=60'}
    assert len(set(buckets.keys("gw:rl:read:c*")) - before) == 1
