"""deploy/docker/entrypoint.sh for real, against the local PostgreSQL: migrate once, wait, exec gunicorn."""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import deploy_checks as checks
import psycopg2
import pytest
from deploy_checks import ENTRYPOINT, ROOT
from psycopg2 import sql

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres", "connect_timeout": 3}


def admin_connection():
    try:
        connection = psycopg2.connect(**PG)
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    connection.autocommit = True
    return connection


@pytest.fixture
def database():
    """A fresh, empty database, dropped afterwards."""
    name = f"test_deploy_entrypoint_{secrets.token_hex(4)}"
    connection = admin_connection()
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.close()


def container_env(database: str, scratch: Path, **overrides: str) -> dict:
    """compose/.env as a container gets it (make_env.py's), pointed at this machine's PostgreSQL, Redis and
    `scratch`."""
    env = checks.compose_env_with_fresh_secrets()
    env.update(
        {
            # The virtualenv running these tests stands in for the image's /opt/venv.
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "APP_HOME": str(ROOT),
            "SERVICE": "users",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "TRUSTED_PROXIES": "127.0.0.1",
            "DB_WAIT_TIMEOUT": "10",
            "PROMETHEUS_MULTIPROC_DIR": str(scratch / "prometheus-multiproc"),
            **overrides,
        }
    )
    return env


def entrypoint(env: dict, *command: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [str(ENTRYPOINT), *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs
    )


def finish(process: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


def test_concurrent_migrate_runs_apply_migrations_once_and_await_sees_them(database: str, tmp_path: Path):
    env = container_env(database, tmp_path, MIGRATION_WAIT_TIMEOUT="0")
    code, output = finish(entrypoint(env, "await-migrations"))
    assert code == 1, output
    assert "migrations were not applied" in output

    first, second = entrypoint(env, "migrate"), entrypoint(env, "migrate")
    results = [finish(first), finish(second)]

    assert [code for code, _ in results] == [0, 0], results
    applied = [output for _, output in results if re.search(r"applying \d+ migrations", output)]
    skipped = [output for _, output in results if "no migrations to apply" in output]
    assert len(applied) == 1 and len(skipped) == 1, results
    code, output = finish(entrypoint(env, "await-migrations"))
    assert code == 0, output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> int | None:
    request = urllib.request.Request(url, headers={"Host": "127.0.0.1"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 (loopback only)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.mark.parametrize(
    ("service", "worker_line"),
    [("users", "Using worker: gthread"), ("gateway", "Using worker: gateway_project.worker.GatewayWorker")],
)
def test_serve_migrates_when_asked_then_execs_gunicorn_which_stops_cleanly_on_sigterm(
    database: str, tmp_path: Path, service: str, worker_line: str
):
    port = free_port()
    env = container_env(database, tmp_path, SERVICE=service, MIGRATE_ON_START="true", GUNICORN_BIND=f"127.0.0.1:{port}")
    stale = Path(env["PROMETHEUS_MULTIPROC_DIR"]) / "counter_4242.db"
    stale.parent.mkdir()
    stale.write_text("left by the previous run of this container")
    process = entrypoint(env, "serve")
    try:
        deadline = time.monotonic() + 45
        while get(f"http://127.0.0.1:{port}/healthz") != 200:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz in 45 s"
            time.sleep(0.2)
        ready = get(f"http://127.0.0.1:{port}/readyz")
        # exec: the process started as the entry point is now gunicorn's master, which receives SIGTERM.
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        # A kept-alive connection left idle, as HAProxy's pool leaves them.
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        idle.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        idle.getresponse().read()
    finally:
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code, output = finish(process, timeout=40)
    stopped_in = time.monotonic() - stopping
    idle.close()

    assert ready == 200
    assert not stale.exists(), "serve must start with an empty PROMETHEUS_MULTIPROC_DIR"
    assert "gunicorn" in command_line and "deploy/docker/entrypoint.sh" not in command_line
    assert code == 0, output
    assert re.search(r"applying \d+ migrations", output)
    assert worker_line in output
    # Not held open for GUNICORN_GRACEFUL_TIMEOUT (20 s) by the idle connection.
    assert stopped_in < 10, output
