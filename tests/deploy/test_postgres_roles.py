"""The PostgreSQL init script (compose/postgres/10-create-databases.sh, the same in deploy/k8s/postgres.yaml),
run against a private PostgreSQL: each service's role owns its database and can reach no other."""

import subprocess

import psycopg2
import pytest
from deploy_checks import COMPOSE_DIR

from support import postgres_server

SCRIPT = COMPOSE_DIR / "postgres" / "10-create-databases.sh"
PASSWORDS = {"users": "users-secret-1", "products": "products 'secret' 2", "gateway": "gateway;secret\\3"}


@pytest.fixture(scope="module")
def initialised():
    """A fresh cluster after the script ran as the image runs it: as POSTGRES_USER, over the local socket."""
    reason = postgres_server.missing()
    if reason:
        pytest.skip(reason)
    server = postgres_server.PostgresServer()
    server.start()
    try:
        subprocess.run(
            [postgres_server.RUNUSER, "-u", postgres_server.SYSTEM_USER, "--", "bash", str(SCRIPT)],
            env={
                **server.socket_env,
                "PATH": f"{postgres_server.BIN_DIR}:/usr/bin:/bin",
                "POSTGRES_USER": "postgres",
                **{f"{tier.upper()}_DB_PASSWORD": password for tier, password in PASSWORDS.items()},
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("tier", PASSWORDS)
def test_a_services_role_owns_its_database_and_can_create_tables_in_it(initialised, tier):
    with initialised.connect(user=f"{tier}_app", password=PASSWORDS[tier], dbname=f"scaling_{tier}") as connection:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE migrated (id bigint PRIMARY KEY)")
            cursor.execute(
                "SELECT pg_get_userbyid(datdba), rolsuper, rolcreatedb, rolcreaterole FROM pg_database, pg_roles"
                " WHERE datname = current_database() AND rolname = current_user"
            )
            assert cursor.fetchone() == (f"{tier}_app", False, False, False)
    connection.close()


@pytest.mark.parametrize("tier", PASSWORDS)
def test_a_services_role_cannot_connect_to_another_services_database(initialised, tier):
    others = [other for other in PASSWORDS if other != tier]

    for other in others:
        with pytest.raises(psycopg2.OperationalError, match=f'permission denied for database "scaling_{other}"'):
            initialised.connect(user=f"{tier}_app", password=PASSWORDS[tier], dbname=f"scaling_{other}")


def test_a_wrong_password_is_refused(initialised):
    with pytest.raises(psycopg2.OperationalError, match='password authentication failed for user "users_app"'):
        initialised.connect(user="users_app", password="guess", dbname="scaling_users")


def test_the_script_stops_before_creating_anything_when_a_password_is_missing(tmp_path):
    # No server at PGHOST: had the script reached psql, it would fail differently.
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        env={"PATH": "/usr/bin:/bin", "PGHOST": str(tmp_path), "POSTGRES_USER": "postgres", "USERS_DB_PASSWORD": "x"},
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 1
    assert "PRODUCTS_DB_PASSWORD: the products_app password" in result.stderr
    assert "psql" not in result.stderr
