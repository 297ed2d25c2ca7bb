"""The foundation end to end: real gunicorn replicas, PostgreSQL, HAProxy, and manage_all.sh itself."""

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from conftest import PORT_BASE

from support.stack import Stack


def test_the_aggregate_through_haproxy_is_read_from_postgresql(stack):
    connection = stack.connect("users")
    with connection, connection.cursor() as cursor:
        # Raw SQL bypasses the invalidation signals, so use ids no test reads before this one.
        cursor.execute("UPDATE users_userprofile SET full_name = 'Straight From Postgres' WHERE id = 19")
    connection.close()

    response = httpx.get(f"{stack.url('gateway')}/api/19/19/", headers=stack.auth_headers())

    assert response.status_code == 200
    assert response.json()["user"]["full_name"] == "Straight From Postgres"
    assert response.json()["product"]["sku"] == "SKU-000019"


def test_a_write_through_the_gateway_is_visible_in_the_service(stack):
    with stack.client() as gateway, stack.client("users") as users:
        created = gateway.post("/api/users/", json={"username": "e2e_writer", "email": "e2e_writer@example.com"})
        fetched = users.get(f"/api/users/{created.json()['id']}/")

    assert created.status_code == 201
    assert fetched.json()["username"] == "e2e_writer"


def test_status_lists_every_replica_as_up(stack):
    output = stack.manage("status").stdout

    lines = [line.split() for line in output.splitlines()[1:] if line.startswith(("users", "products", "gateway"))]
    assert sorted(line[1] for line in lines) == sorted(
        ["users-1", "users-2", "users-3", "products-1", "products-2", "products-3", "gateway-1", "gateway-2"]
    )
    assert all(line[4] == "UP" for line in lines), lines


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (a zombie does not: PID 1 here may never reap it)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_until_refused(url: str, timeout: float = 10) -> None:
    """SIGKILL is asynchronous: poll until the port no longer accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/healthz", timeout=0.5)
        except httpx.ConnectError:
            return
        time.sleep(0.05)
    raise AssertionError(f"{url} still answers {timeout}s after SIGKILL")


@pytest.fixture
def sqlite_stack(tmp_path):
    stack = Stack("sqlite", PORT_BASE - 8000, tmp_path, redis_db=11)
    stack.env["POSTGRES_PORT"] = "1"  # nothing listens there: PostgreSQL is "not installed"
    yield stack
    stack.down()


def test_without_postgresql_or_haproxy_up_falls_back_and_down_stops_everything(sqlite_stack):
    # A PATH without /usr/sbin hides HAProxy, as on a machine where it is not installed.
    result = sqlite_stack.manage("up", env={"PATH": "/usr/local/bin:/usr/bin:/bin"})
    pids = {name: sqlite_stack.pid(name) for name in ("users-1", "products-1", "gateway-1")}

    headers = sqlite_stack.auth_headers()
    aggregate = httpx.get(f"{sqlite_stack.url('gateway')}/api/2/3/", headers=headers)
    os.killpg(pids["users-1"], signal.SIGKILL)  # the replica: gunicorn master and its workers
    wait_until_refused(sqlite_stack.url("users"))
    users_down = httpx.get(f"{sqlite_stack.url('gateway')}/api/4/5/", headers=headers)  # not cached yet
    sqlite_stack.down()

    assert result.stderr.splitlines()[0].startswith("PostgreSQL is not reachable at 127.0.0.1:1; using SQLite files")
    assert result.stdout.splitlines()[2] == (
        "HAProxy is not installed (apt-get install haproxy); running one replica per service, direct."
    )
    assert sorted(path.name for path in (sqlite_stack.stack_dir / "db").iterdir()) == [
        "scaling_gateway.sqlite3",
        "scaling_products.sqlite3",
        "scaling_users.sqlite3",
    ]
    assert (aggregate.status_code, aggregate.json()["user"]["username"]) == (200, "user_2")
    assert users_down.status_code == 502
    assert users_down.json()["error"]["detail"] == {"service": "users"}
    assert [pid for pid in pids.values() if group_alive(pid)] == []
