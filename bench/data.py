"""Data at scale for the harness: the services' own seed and import commands, run and timed on databases of
the harness's own (the `data` scenario), and the catalogue the scale scenarios read.

Every command is the real `manage.py` of the service with its production settings module, so what is timed
is what a team runs: `seed_products --count N`, `import_products FILE`.
"""

import csv
import os
import random
import re
import subprocess
import time
from pathlib import Path

import psycopg2
from psycopg2 import sql

from . import database
from .plan import MONOLITH_DATABASE, ROOT, VENV
from .processes import BenchError

PROJECTS = {"products": ROOT / "product_project", "users": ROOT / "user_project"}
SETTINGS = {"products": "product_project.settings", "users": "user_project.settings"}
# "products: 1,000 rows read, 990 created, 10 rejected in 0.1 s (9,000 rows/s, rebuild)"
IMPORT_SUMMARY = re.compile(
    r"(?P<read>[\d,]+) rows read, (?P<created>[\d,]+) created, (?P<rejected>[\d,]+) rejected in"
    r" (?P<seconds>[\d.]+) s \((?P<rate>[\d,]+) rows/s, (?P<mode>\w+)\)"
)


def service_env(service: str, database_name: str, redis_url: str, secret_key: str, token: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS[service],
        "DATABASE_URL": database.url(database_name),
        "REDIS_URL": redis_url,
        "DJANGO_SECRET_KEY": secret_key,
        "SERVICE_AUTH_TOKEN": token,
        "LOG_LEVEL": "WARNING",
    }


def manage(service: str, env: dict, *args: str, timeout: float = 900) -> tuple[float, str]:
    """(wall seconds, stdout) of one manage.py command; BenchError when it fails."""
    started = time.monotonic()
    result = subprocess.run(
        [str(VENV / "bin" / "python"), "manage.py", *args],
        cwd=PROJECTS[service],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise BenchError(f"{service}: manage.py {' '.join(args)} failed: {result.stderr.strip()[-600:]}")
    return seconds, result.stdout


def recreate(name: str) -> None:
    """DROP (with its connections) and CREATE the database: a measurement starts from an empty one."""
    drop(name)
    database.ensure(name)


def drop(name: str) -> None:
    connection = psycopg2.connect(dbname="postgres", connect_timeout=3, **database.params())
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        connection.close()


def write_products_csv(path: Path, rows: int, *, prefix: str = "IMP") -> None:
    """A CSV a team might export: every column, varied values, skus that the demo catalogue does not use."""
    generator = random.Random(15)  # noqa: S311 (test data, not secrets)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "sku", "price", "description", "stock"])
        for i in range(1, rows + 1):
            price = f"{generator.randint(100, 99_999) / 100:.2f}"
            writer.writerow(
                [f"Imported widget {i}", f"{prefix}-{i}", price, f"Product {i} from the old shop.", i % 500]
            )


def import_summary(stdout: str) -> dict:
    """The import command's own count and rate (its reading, checking and writing, without Django's start)."""
    match = IMPORT_SUMMARY.search(stdout)
    if match is None:
        raise BenchError(f"import_products printed no summary: {stdout.strip()[-300:]}")

    def number(name: str) -> int:
        return int(match[name].replace(",", ""))

    return {
        "rows": number("read"),
        "created": number("created"),
        "rejected": number("rejected"),
        "seconds": float(match["seconds"]),
        "rows_per_s": number("rate"),
        "mode": match["mode"],
    }


# What copy_catalogue moves: the services' tables into the monolith's, column for column.
CATALOGUE_TABLES = {
    "users": ("users_userprofile", "catalog_userprofile", "id, username, email, full_name, created_at, updated_at"),
    "products": (
        "products_product",
        "catalog_product",
        "id, name, description, sku, price, stock, created_at, updated_at",
    ),
}


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT indisunique",
        [table],
    )
    return cursor.fetchall()


def copy_catalogue(sources: dict[str, str], spool: Path, destination: str = MONOLITH_DATABASE) -> dict[str, int]:
    """Our stack's users and products, row for row, into the monolith's tables (which lose what they held):
    COPY out to a spool file, then in with the secondary indexes built after (svc_common.bulk's order),
    identity sequences moved past the ids, ANALYZE. Returns the rows copied per table."""
    copied = {}
    for name, (source_table, target_table, columns) in CATALOGUE_TABLES.items():
        path = spool / f"{name}.csv"
        # The table and column names are this module's constants (CATALOGUE_TABLES), never input.
        copy_out = f"COPY (SELECT {columns} FROM {source_table}) TO STDOUT WITH (FORMAT csv)"  # noqa: S608
        source = psycopg2.connect(dbname=sources[name], connect_timeout=3, **database.params())
        try:
            with source.cursor() as cursor, path.open("w") as handle:
                cursor.copy_expert(copy_out, handle)
        finally:
            source.close()
        target = psycopg2.connect(dbname=destination, connect_timeout=3, **database.params())
        try:
            with target, target.cursor() as cursor, path.open() as handle:
                cursor.execute(f"TRUNCATE {target_table}")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                indexes = _secondary_indexes(cursor, target_table)
                for index, _ in indexes:
                    cursor.execute(f"DROP INDEX {index}")
                cursor.copy_expert(f"COPY {target_table} ({columns}) FROM STDIN WITH (FORMAT csv)", handle)
                for _, definition in indexes:
                    cursor.execute(definition)
                last_id = f"SELECT max(id) FROM {target_table}"  # noqa: S608 (a constant table name)
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), ({last_id}))", [target_table])
                cursor.execute(f"SELECT count(*) FROM {target_table}")  # noqa: S608 (a constant table name)
                copied[name] = cursor.fetchone()[0]
            target.autocommit = True
            with target.cursor() as cursor:
                cursor.execute(f"ANALYZE {target_table}")
        finally:
            target.close()
            path.unlink(missing_ok=True)
    return copied
