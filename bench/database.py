"""The harness's own PostgreSQL database (the monolith's), found with the stack's POSTGRES_* variables."""

import os

import psycopg2
from stackctl.databases import ensure_postgres_database

from .processes import BenchError


def params() -> dict:
    return {
        "host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "port": int(os.environ.get("POSTGRES_PORT", "5432")),
        "user": os.environ.get("POSTGRES_USER", "postgres"),
        "password": os.environ.get("POSTGRES_PASSWORD", ""),
    }


def url(name: str) -> str:
    found = params()
    password = f":{found['password']}" if found["password"] else ""
    return f"postgres://{found['user']}{password}@{found['host']}:{found['port']}/{name}"


def connection_headroom() -> tuple[int, int]:
    """(max_connections, connections in use now) of the PostgreSQL server."""
    connection = psycopg2.connect(dbname="postgres", connect_timeout=3, **params())
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('max_connections')::int, (SELECT count(*) FROM pg_stat_activity)")
            return cursor.fetchone()
    finally:
        connection.close()


def ensure(name: str) -> None:
    """CREATE DATABASE name unless it exists (stackctl's own way); a clear error when PostgreSQL is not reachable."""
    try:
        ensure_postgres_database(url(name))
    except psycopg2.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable: {str(exc).strip()}") from exc
