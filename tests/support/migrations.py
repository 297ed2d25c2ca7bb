"""Upgrade checks for a service's IdempotencyRecord, now a subclass of svc_common's abstract model.

The user and product suites call them with their own app: the migrations 0002 created each table, and the
concrete models must still match it, so that an upgrade needs no migration and loses no row.
"""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

RECORD_MIGRATION = "0002_idempotency_record"
RECORD_COLUMNS = ["id", "scope", "key", "fingerprint", "response_status", "response_body", "created_at"]


def makemigrations_check(app_label: str) -> str:
    """What `makemigrations --check --dry-run` says of the app (it exits non-zero on a change)."""
    out = StringIO()
    call_command("makemigrations", app_label, check=True, dry_run=True, stdout=out)
    return out.getvalue().strip()


def migrate_to(targets: list[tuple[str, str]]):
    """Migrate the test database to `targets` and return the historical apps at that point."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def migrate_to_head(app_label: str) -> None:
    executor = MigrationExecutor(connection)
    migrate_to([node for node in executor.loader.graph.leaf_nodes() if node[0] == app_label])


def record_written_before_and_read_after(app_label: str) -> tuple[dict, dict]:
    """A row written by the model as migration 0002 defined it, then read by today's model after
    migrating to the head: (written, read), field by field."""
    historical = migrate_to([(app_label, RECORD_MIGRATION)]).get_model(app_label, "IdempotencyRecord")
    try:
        row = historical.objects.create(
            scope="client:42",
            key="order-2024-0001",
            fingerprint="f" * 64,
            response_status=201,
            response_body={"id": 7, "name": "Ünïcode ✓", "tags": ["a", "b"], "price": "19.99"},
        )
        written = {column: getattr(row, column) for column in RECORD_COLUMNS}
    finally:
        migrate_to_head(app_label)
    record = apps.get_model(app_label, "IdempotencyRecord").objects.get(pk=written["id"])
    return written, {column: getattr(record, column) for column in RECORD_COLUMNS}


def table_shape(app_label: str) -> tuple[str, list[str], dict]:
    """(table, columns, {constraint name: (columns, unique)}) of the app's IdempotencyRecord in the database."""
    model = apps.get_model(app_label, "IdempotencyRecord")
    table = model._meta.db_table
    with connection.cursor() as cursor:
        columns = [column.name for column in connection.introspection.get_table_description(cursor, table)]
        constraints = connection.introspection.get_constraints(cursor, table)
    named = {name: (info["columns"], info["unique"]) for name, info in constraints.items() if not info["primary_key"]}
    return table, columns, named


def model_shape(app_label: str) -> tuple[str, list[str], list[str]]:
    """(table, columns, constraint names) that today's model declares."""
    meta = apps.get_model(app_label, "IdempotencyRecord")._meta
    return meta.db_table, [field.column for field in meta.local_fields], [c.name for c in meta.constraints]


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {name for (name,) in cursor.fetchall()}


def indexes_around_a_migration(app_label: str, before: str, table: str, insert_sql: str) -> tuple[set, set, int]:
    """Migrate back to `before`, fill the table with insert_sql, migrate to the head again: (the table's index
    names before, after, its rows after), as an upgrade of a database already holding data goes."""
    call_command("migrate", app_label, before, verbosity=0)
    try:
        with connection.cursor() as cursor:
            cursor.execute(insert_sql)
        without = index_names(table)
    finally:
        call_command("migrate", app_label, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (the tests' own table names)
        return without, index_names(table), cursor.fetchone()[0]


def on_sqlite(project_dir: Path, settings_module: str, script: str, tmp_path: Path) -> dict:
    """The project migrated on a fresh SQLite file, then `script` run in its manage.py shell: the JSON of the
    last line it prints."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fallback.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "testserver",
    }
    python = [sys.executable, "manage.py"]
    subprocess.run([*python, "migrate", "--verbosity", "0"], cwd=project_dir, env=env, check=True)
    result = subprocess.run(
        [*python, "shell", "-c", script], cwd=project_dir, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
