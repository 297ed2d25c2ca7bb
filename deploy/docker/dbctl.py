"""Database chores for the container entry point: wait for it, migrate it once, wait for its migrations.

Run by deploy/docker/entrypoint.sh inside a project's directory, with DJANGO_SETTINGS_MODULE set.
"""

import argparse
import hashlib
import logging
import sys
import time

import django
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from svc_common.probes import database_problem

logger = logging.getLogger("dbctl")

# One key for every project: advisory locks are scoped to the current database, and each project has its own.
MIGRATE_LOCK_KEY = int.from_bytes(hashlib.sha256(b"scaling:migrate").digest()[:8], "big", signed=True)
POLL_INTERVAL = 1.0


def database_answers() -> bool:
    """True when the default database accepts a connection and a query (svc_common's probe)."""
    problem = database_problem()
    if problem is not None:
        logger.info("database not ready yet: %s", problem)
    return problem is None


def wait_for_database(timeout: float) -> bool:
    """Poll the database until it answers or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if database_answers():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def pending_migrations() -> list[str]:
    """The migrations `migrate` would apply, as 'app.name'."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def try_migrate_lock(cursor) -> bool:
    cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
    return cursor.fetchone()[0]


def migrate_locked() -> None:
    """manage.py migrate, one runner at a time: PostgreSQL runs serialize on a session advisory lock."""
    lock_connection = None
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        # A second session holds the lock, so migrate's own transactions cannot release it early.
        lock_connection = connections.create_connection(DEFAULT_DB_ALIAS)
        lock_connection.ensure_connection()
        # Polled, not a blocking pg_advisory_lock(): a session blocked in a statement holds a snapshot, and
        # the other runner's CREATE INDEX CONCURRENTLY (migrations 0003) waits for every snapshot to end,
        # so the two would wait on each other forever (PostgreSQL's deadlock detector sees no cycle).
        with lock_connection.cursor() as cursor:
            if not try_migrate_lock(cursor):
                logger.info("another migrate holds the lock; waiting for it")
                while not try_migrate_lock(cursor):
                    time.sleep(POLL_INTERVAL)
    try:
        pending = pending_migrations()
        if not pending:
            logger.info("no migrations to apply")
            return
        logger.info("applying %d migrations", len(pending))
        call_command("migrate", interactive=False, verbosity=1)
    finally:
        if lock_connection is not None:
            with lock_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
            lock_connection.close()


def await_migrations(timeout: float) -> bool:
    """Poll until the database answers and has no pending migration, or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if database_answers():
            pending = pending_migrations()
            if not pending:
                return True
            logger.info("waiting for %d migrations, first %s", len(pending), pending[0])
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dbctl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    wait = sub.add_parser("wait", help="wait until the database answers")
    wait.add_argument("--timeout", type=float, default=60)
    sub.add_parser("migrate", help="migrate under a PostgreSQL advisory lock")
    await_parser = sub.add_parser("await-migrations", help="wait until every migration is applied")
    await_parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)

    django.setup()
    # Django's LOGGING sends JSON lines to stderr; this logger joins them at INFO.
    logger.setLevel(logging.INFO)
    if args.command == "wait":
        if not wait_for_database(args.timeout):
            logger.error("the database did not answer within %.0fs", args.timeout)
            return 1
        return 0
    if args.command == "migrate":
        migrate_locked()
        return 0
    if not await_migrations(args.timeout):
        logger.error("migrations were not applied within %.0fs", args.timeout)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
