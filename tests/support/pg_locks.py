"""What PostgreSQL sessions wait for, read from pg_locks: how a test knows a request is blocked where it meant."""


def waiting(connection, locktype: str) -> int:
    """Other sessions' lock requests of a type ("relation", "advisory") not granted yet (a psycopg2 connection)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = %s AND NOT granted AND pid <> pg_backend_pid()",
            [locktype],
        )
        return cursor.fetchone()[0]
