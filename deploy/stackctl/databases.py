"""Create each project's database, migrate it, collect its static files and seed it; fall back to SQLite
without PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

from . import config
from .config import SERVICES, Service
from .processes import StackError


def postgres_reachable() -> bool:
    import psycopg2

    try:
        psycopg2.connect(**_maintenance_params(), connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def _maintenance_params() -> dict:
    return {
        "host": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
        "port": int(os.environ.get("POSTGRES_PORT", "5432")),
        "user": os.environ.get("POSTGRES_USER", "postgres"),
        "password": os.environ.get("POSTGRES_PASSWORD", ""),
        "dbname": "postgres",
    }


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE for a postgres:// URL if it does not exist yet."""
    import psycopg2
    from psycopg2 import sql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    params = {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "password": parsed.password or "",
        "dbname": "postgres",
        "connect_timeout": 3,
    }
    connection = psycopg2.connect(**params)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def choose_backend() -> str:
    """'postgres' when reachable or explicitly configured; otherwise 'sqlite', said in one line."""
    if all(os.environ.get(f"{name.upper()}_DATABASE_URL") for name in SERVICES):
        return "explicit"
    if postgres_reachable():
        return "postgres"
    params = _maintenance_params()
    print(
        f"PostgreSQL is not reachable at {params['host']}:{params['port']}; "
        f"using SQLite files under {sqlite_dir()} instead.",
        file=sys.stderr,
    )
    return "sqlite"


def sqlite_dir() -> Path:
    return config.stack_dir() / "db"


def database_url(service: Service, backend: str) -> str:
    return service.database_url(sqlite_dir() if backend == "sqlite" else None)


def _manage_env(service: Service, backend: str) -> dict:
    from .processes import service_env

    return service_env(service, database_url(service, backend), 0, {"users": 0, "products": 0})


def manage_interactive(service: Service, backend: str, *args: str) -> int:
    """manage.py attached to this terminal, in the caller's directory (so `import_products data.csv` finds a
    relative path); returns its exit code."""
    return subprocess.call(
        [str(config.VENV / "bin" / "python"), str(service.project_dir / "manage.py"), *args],
        env=_manage_env(service, backend),
    )


def manage(service: Service, backend: str, *args: str, extra_env: dict | None = None) -> str:
    """Run manage.py for a project with the same environment its replicas get; returns its stdout."""
    env = {**_manage_env(service, backend), **(extra_env or {})}
    result = subprocess.run(
        [str(config.VENV / "bin" / "python"), "manage.py", *args],
        cwd=service.project_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"{service.project}: manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    if result.stdout.strip() and args[0].startswith("seed"):
        print("  " + result.stdout.strip())
    return result.stdout


def prepare(backend: str) -> None:
    """Databases exist, are migrated and hold the demo data."""
    if backend == "sqlite":
        sqlite_dir().mkdir(parents=True, exist_ok=True)
    for name in config.START_ORDER:
        service = SERVICES[name]
        url = database_url(service, backend)
        if url.startswith(("postgres://", "postgresql://")):
            ensure_postgres_database(url)
        manage(service, backend, "migrate", "--noinput")
        # The admin's and the browsable API's assets, which WhiteNoise serves from STATIC_ROOT.
        manage(service, backend, "collectstatic", "--noinput", "--verbosity", "0")
        if service.seed_command:
            manage(service, backend, service.seed_command, "--count", str(config.seed_count()))
    demo = demo_login()
    manage(SERVICES["gateway"], backend, "demo_user", demo[0], extra_env={"DEMO_USER_PASSWORD": demo[1]})


def demo_login() -> tuple[str, str]:
    """(username, password) of the gateway user a person logs in as on a local stack: not staff, its password
    generated once and kept under var/ (or DEMO_USER_PASSWORD), printed by `up`."""
    return "demo", config.local_secret("DEMO_USER_PASSWORD", nbytes=12)  # 96 bits, short enough to type
