"""Security end to end: exact limits across gateway replicas, trusted service calls, hardening."""

import json
import secrets
import socket
import subprocess
import threading
import time

import httpx
import pytest

from support.poll import poll
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
    connection = stack.connect("gateway")
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


# HAProxy's frontends: addresses believed only from a trusted hop, path rules on the decoded path, slow bodies cut.


def _service_log_lines(stack, service: str, request_id: str) -> list[dict]:
    lines = []
    for log in (stack.stack_dir / "log").glob(f"{service}-*.log"):
        for line in log.read_text().splitlines():
            if line.startswith("{") and f'"request_id": "{request_id}"' in line:
                lines.append(json.loads(line))
    return lines


@pytest.mark.parametrize("service", ["gateway", "users", "products"])
@pytest.mark.parametrize("path", ["/metrics", "/%6Detrics", "/%6d%65trics"])
def test_metrics_are_not_served_through_any_public_frontend_however_the_path_is_encoded(stack, service, path):
    response = httpx.get(f"{stack.url(service)}{path}", timeout=5)

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found.", "detail": None}}
    assert "django_http_requests_total" not in response.text


@pytest.mark.parametrize("service", ["users", "products"])
def test_a_service_frontend_states_the_callers_address_whatever_x_forwarded_for_claims(stack, service):
    request_id = f"e2e-forged-xff-{service}-{secrets.token_hex(4)}"
    headers = {**stack.service_headers(), "X-Request-ID": request_id, "X-Forwarded-For": "203.0.113.66"}

    response = httpx.get(f"{stack.url(service)}/api/{service}/1/", headers=headers, timeout=5)

    assert response.status_code == 200
    logged = poll(lambda: _service_log_lines(stack, service, request_id), timeout=10, what="the request's log line")
    assert [line["client_ip"] for line in logged] == ["127.0.0.1"]


@pytest.mark.parametrize("service", ["gateway", "users"])
def test_a_clients_x_forwarded_host_never_names_the_host_in_links(stack, service):
    headers = stack.auth_headers() if service == "gateway" else stack.service_headers()
    headers = {**headers, "X-Forwarded-Host": "localhost"}  # allowed, but not the host this client called

    response = httpx.get(f"{stack.url(service)}/api/users/?page_size=1", headers=headers, timeout=5)

    assert response.status_code == 200
    assert response.json()["next"].startswith(f"{stack.url(service)}/api/users/?")


def _backend_sessions(stack, backend: str) -> int:
    from support import haproxy_stats

    return sum(int(row["stot"]) for row in haproxy_stats.servers(stack.url("stats"), backend).values())


@pytest.mark.parametrize("size", [1_000, 60_000])  # within HAProxy's default buffer, and past it (under the cap)
def test_a_slow_body_is_cut_by_haproxy_before_any_replica_holds_a_thread(stack, size):
    head = (
        f"POST /api/users/ HTTP/1.1\r\nHost: 127.0.0.1\r\n{'Authorization: ' + stack.auth_headers()['Authorization']}"
        f"\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    ).encode()
    before = _backend_sessions(stack, "be_gateway")

    with socket.create_connection(("127.0.0.1", stack.port_base), timeout=15) as connection:
        connection.sendall(head + b" " * (size * 2 // 3))  # two thirds of the body, then nothing more
        started = time.monotonic()
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
        waited = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"] == "request_timeout"
    assert waited < 7  # timeout http-request (5 s), counted from the first byte
    assert _backend_sessions(stack, "be_gateway") == before  # no gateway replica ever saw the request
