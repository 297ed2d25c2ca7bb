"""Security end to end: exact limits across gateway replicas, trusted service calls, hardening."""

import secrets
import subprocess
import threading

import httpx
import psycopg2
import pytest

from support.stack import ROOT


def test_three_gateway_replicas_let_exactly_the_limit_through(stack):
    stack.manage("scale", "gateway", "3")
    try:
        limit = 30
        headers = {"Authorization": f"Token {stack.token('limited-e2e', '--rate', f'{limit}/minute')}"}
        barrier = threading.Barrier(3 * limit, timeout=30)
        responses = []

        def one_request():
            with httpx.Client(timeout=20) as client:
                barrier.wait()
                responses.append(client.get(f"{stack.url('gateway')}/api/5/5/", headers=headers))

        threads = [threading.Thread(target=one_request) for _ in range(3 * limit)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        served_by = {row["svname"]: int(row["stot"]) for row in _gateway_servers(stack).values()}
    finally:
        stack.manage("scale", "gateway", "2")

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * limit + [429] * (2 * limit)
    assert all(count > 0 for count in served_by.values()), served_by
    for response in responses:
        assert response.headers["RateLimit-Policy"] == f'"read";q={limit};w=60'
        assert response.headers["RateLimit"].startswith('"read";r=')
    for response in (r for r in responses if r.status_code == 429):
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["code"] == "rate_limited"


def _gateway_servers(stack):
    from support import haproxy_stats

    return haproxy_stats.servers(stack.url("stats"), "be_gateway")


def test_a_service_called_directly_without_the_gateway_credential_refuses(stack):
    without = httpx.get(f"{stack.url('users')}/api/users/1/")
    forged = httpx.get(f"{stack.url('products')}/api/products/1/", headers={"X-Service-Token": "forged"})
    with_credential = httpx.get(f"{stack.url('users')}/api/users/1/", headers=stack.service_headers())

    assert without.status_code == 401
    assert forged.status_code == 401
    assert with_credential.status_code == 200


def test_no_token_is_stored_in_usable_form(stack):
    key = stack.token("storage-check")
    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=f"{stack.database_prefix}scaling_gateway")
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT key_hash, prefix FROM clients_apitoken")
        rows = cursor.fetchall()
    connection.close()

    assert rows
    assert not any(key in column for row in rows for column in row)


def test_responses_through_haproxy_carry_no_server_header(stack):
    response = httpx.get(f"{stack.url('gateway')}/api/1/1/", headers=stack.auth_headers())

    assert response.status_code == 200
    assert "server" not in response.headers


@pytest.mark.parametrize("service", ["gateway", "users", "products"])
def test_a_uri_longer_than_gunicorn_accepts_is_a_json_414_from_every_frontend(stack, service):
    response = httpx.get(f"{stack.url(service)}/api/users/?search={'a' * 5000}", headers=stack.auth_headers())

    assert response.status_code == 414
    assert response.json() == {
        "error": {"code": "uri_too_long", "message": "The request URI is longer than 4000 bytes.", "detail": None}
    }


@pytest.mark.parametrize("project", ["user_project", "product_project", "gateway_project"])
def test_check_deploy_is_clean_in_production_mode(project):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SERVICE_AUTH_TOKEN": secrets.token_urlsafe(32),
    }

    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT / project,
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "System check identified no issues (2 silenced)."


@pytest.mark.parametrize("key", ["", "short", "django-insecure-" + "x" * 60])
def test_production_mode_refuses_to_start_without_a_real_secret_key(key):
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SECRET_KEY": key, "SERVICE_AUTH_TOKEN": "x"}

    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "check"],
        cwd=ROOT / "user_project",
        env=env,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
