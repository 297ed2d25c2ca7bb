"""Migration operations that index a live PostgreSQL table without blocking writes, and keep SQLite working.

- `AddIndexOnline`: Django's `AddIndexConcurrently` on PostgreSQL (`CREATE INDEX CONCURRENTLY`: a table of a
  million rows keeps taking writes while it is indexed), a plain `AddIndex` on any other database. The index
  is part of the model's state, declared in `Meta.indexes`.
- `AddPostgresIndex`: an index only PostgreSQL can build (GIN with pg_trgm's `gin_trgm_ops`), built the same
  way there and skipped, by vendor, elsewhere. It stays out of the model's state on purpose: SQLite rebuilds
  a table from that state on most `ALTER`s, and could not rebuild this index.

A migration using either sets `atomic = False`: `CREATE INDEX CONCURRENTLY` cannot run inside a transaction.
A concurrent build that fails (a deadlock, a cancelled migration) leaves an INVALID index behind: drop it
(`DROP INDEX CONCURRENTLY <name>`) before running the migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db.migrations.operations import AddIndex


def _is_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


class AddIndexOnline(AddIndexConcurrently):
    """AddIndex, built concurrently on PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddPostgresIndex(AddIndexOnline):
    """A PostgreSQL-only index, built concurrently there; no-op on other databases and in the model state."""

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgresql(schema_editor):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if _is_postgresql(schema_editor):
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"Create PostgreSQL-only index {self.index.name} on {self.model_name} (skipped on other databases)"
