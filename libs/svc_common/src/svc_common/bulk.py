"""Bulk loads into a service's table (the seed and import commands): fast, indexed after, and seen at once.

- **Incremental** (a live table): each batch is its own transaction, every index in place.
- **Rebuild** (a load at least as large as the table, on PostgreSQL): one transaction drops the table's
  secondary indexes, loads every batch and builds them again before it commits, pg_restore's order. A
  million products load in about 20 s this way against about 40 s through eight live indexes. The unique
  and primary-key indexes stay, so duplicates are still refused row by row; readers of the table wait for
  the commit (the dropped indexes hold an exclusive lock), which is why only a table smaller than the
  load is rebuilt.
- Then `ANALYZE`, so the planner and the lists' estimated counts (svc_common.pagination) know the new size,
  and one invalidation after the last commit: the collection-wide counter, because rows that did not exist
  have no cached copy (svc_common.invalidation).

On PostgreSQL a batch goes in with COPY (no model instances), first as it is; only when the table refuses a
value it holds already are the batch's taken keys looked up (one query) and the others copied (should a
concurrent writer take a key meanwhile, the batch goes in again with `INSERT ... ON CONFLICT DO NOTHING`).
Elsewhere (the SQLite fallback) the taken keys are looked up first and the rest go in with bulk_create.
"""

import contextlib
import csv
import io
import logging
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from .invalidation import invalidate
from .pagination import table_estimate

logger = logging.getLogger("svc_common.bulk")

REBUILD_MAINTENANCE_WORK_MEM = "256MB"


def is_postgresql(model) -> bool:
    return connections[model.objects.db].vendor == "postgresql"


def table_rows(model) -> int:
    """Rows in the model's table: PostgreSQL's estimate once analysed, else counted."""
    if is_postgresql(model) and (estimate := table_estimate(model)) >= 0:
        return estimate
    return model._base_manager.count()


def secondary_indexes(model) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of every index of the table that backs no constraint."""
    connection = connections[model.objects.db]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid = %s::regclass AND NOT indisprimary AND NOT indisunique"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) ORDER BY 1",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        return cursor.fetchall()


@contextlib.contextmanager
def indexes_rebuilt_after(model) -> Iterator[None]:
    """Inside a transaction: drop the secondary indexes, run the block, create them again."""
    connection = connections[model.objects.db]
    indexes = secondary_indexes(model)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL maintenance_work_mem = '{REBUILD_MAINTENANCE_WORK_MEM}'")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)


def analyze(model) -> None:
    """Fresh planner statistics for the table (PostgreSQL; a no-op elsewhere)."""
    if is_postgresql(model):
        with connections[model.objects.db].cursor() as cursor:
            cursor.execute(f"ANALYZE {connections[model.objects.db].ops.quote_name(model._meta.db_table)}")


class CopyRows:
    """Rows of a model as COPY's CSV: every column but the primary key, a missing field taking its default, and
    the auto_now/auto_now_add timestamps set to the moment of formatting. An import formats a batch on the
    thread that checks it, so the thread that writes spends its time in PostgreSQL (svc_common.importing)."""

    def __init__(self, model):
        self.stamped = [
            f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        ]
        self.columns = [f for f in model._meta.concrete_fields if not f.primary_key and f not in self.stamped]
        self._names = frozenset(field.name for field in self.columns)
        names = [field.name for field in self.columns]
        # itemgetter returns a tuple of the row's values, in C; of a single name, the value alone.
        self._in_order = operator.itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        # A default made by a callable (a uuid4, a now) is made per row; any other is the same for every row.
        self._made_per_row = [f for f in self.columns if f.has_default() and callable(f.default)]

    def values(self, rows: list[dict]) -> list[list]:
        """One list per column (not stamped), in self.columns' order."""
        return [list(column) for column in zip(*map(self._in_order, self._complete(rows)), strict=True)]

    def text(self, rows: list[dict]) -> str:
        """The rows as CSV, every value quoted (so "" is not NULL)."""
        buffer = io.StringIO()
        stamps = (timezone.now().isoformat(),) * len(self.stamped)
        csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(
            self._in_order(row) + stamps for row in self._complete(rows)
        )
        return buffer.getvalue()

    def _complete(self, rows: list[dict]) -> list[dict]:
        """The rows with every column, a missing field taking its default."""
        if all(self._names <= row.keys() for row in rows):
            return rows
        shared = {f.name: f.get_default() for f in self.columns if f not in self._made_per_row}
        return [
            row
            if self._names <= row.keys()
            else {**shared, **{f.name: f.get_default() for f in self._made_per_row}, **row}
            for row in rows
        ]


class TableLoad:
    """One bulk load into a model's table (a context manager): batches in, then the indexes, ANALYZE and
    the invalidation of `collection`."""

    def __init__(self, model, *, collection: str, rows_expected: int | None):
        self.model = model
        self.collection = collection
        self.connection = connections[model.objects.db]
        self.rebuild = bool(rows_expected) and is_postgresql(model) and rows_expected >= table_rows(model)
        self._stack = contextlib.ExitStack()
        self.rows = CopyRows(model)
        self.wrote = False  # whether a batch went in (committed at once, in incremental mode)

    @property
    def mode(self) -> str:
        return "rebuild" if self.rebuild else "incremental"

    def __enter__(self) -> "TableLoad":
        if self.rebuild:
            self._stack.enter_context(transaction.atomic(using=self.model.objects.db))
            self._stack.enter_context(indexes_rebuilt_after(self.model))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stack.__exit__(exc_type, exc, tb)
        if exc_type is None:
            analyze(self.model)
        if exc_type is None or (self.wrote and not self.rebuild):
            # An interrupted incremental load keeps the batches it committed: the caches must learn of them too.
            invalidate(collection=self.collection, object_ids=[])

    def batch(self):
        """The transaction of one batch: the load's own in rebuild mode, a fresh one otherwise."""
        return contextlib.nullcontext() if self.rebuild else transaction.atomic(using=self.model.objects.db)

    def execute(self, sql: str, params) -> int:
        """Run one statement of the load (a seed's INSERT ... SELECT); returns the rows it inserted."""
        with self.batch(), self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted = cursor.rowcount
        self.wrote = self.wrote or inserted > 0
        return inserted

    def scalar(self, sql: str, params):
        """The one value a query of the load returns."""
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def insert(self, rows: list[dict], *, key: str, text: str | None = None) -> set:
        """Insert the rows (field name -> value; a missing field takes its default) whose unique fields hold
        values the table does not have yet; returns the `key` values of the rows inserted. `text`: the rows
        already formatted by CopyRows.text.

        On PostgreSQL the batch is first copied as it is, in a savepoint: a fresh load meets no taken value,
        and then one COPY is the whole cost. When the table refuses one, the taken values are looked up (one
        query) and only the rest copied; should another writer take a value in between, the batch is inserted
        with ON CONFLICT DO NOTHING, which is safe against races but costs a speculative insertion per row,
        four times the time."""
        inserted = self._insert(rows, key, text)
        self.wrote = self.wrote or bool(inserted)
        return inserted

    def _insert(self, rows: list[dict], key: str, text: str | None) -> set:
        if not rows:
            return set()
        with self.batch():
            if not is_postgresql(self.model):
                # The base manager's bulk_create publishes no per-row invalidation: the load publishes once.
                fresh = self._fresh(rows)
                self.model._base_manager.bulk_create([self.model(**row) for row in fresh])
                return {row[key] for row in fresh}
            with contextlib.suppress(IntegrityError), transaction.atomic(using=self.model.objects.db):
                self._copy(text if text is not None else self.rows.text(rows))
                return {row[key] for row in rows}
            fresh = self._fresh(rows)
            if not fresh:
                return set()
            try:
                with transaction.atomic(using=self.model.objects.db):
                    self._copy(self.rows.text(fresh))
                return {row[key] for row in fresh}
            except IntegrityError:
                logger.info("a concurrent writer took a key of this batch; inserting it with ON CONFLICT")
                return self._insert_unnest(fresh, key)

    def _fresh(self, rows: list[dict]) -> list[dict]:
        """The rows none of whose unique values the table holds."""
        unique = [field.name for field in self.rows.columns if field.unique]
        taken = self._taken(rows, unique)
        return [row for row in rows if not any(row[name] in taken[name] for name in unique)]

    def _taken(self, rows: list[dict], unique: list[str]) -> dict[str, set]:
        """For each unique field, the values of these rows the table already holds (one query)."""
        taken = {name: set() for name in unique}
        if is_postgresql(self.model):
            # = ANY(array): one parameter per field, where the ORM's __in would compile one per row.
            quote = self.connection.ops.quote_name
            columns = [quote(self.model._meta.get_field(name).column) for name in unique]
            where = " OR ".join(f"{column} = ANY(%s)" for column in columns)
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {', '.join(columns)} FROM {quote(self.model._meta.db_table)} WHERE {where}",  # noqa: S608
                    [[row[name] for row in rows] for name in unique],
                )
                found = cursor.fetchall()
        else:
            lookup = Q()
            for name in unique:
                lookup |= Q(**{f"{name}__in": [row[name] for row in rows]})
            found = self.model._base_manager.filter(lookup).values_list(*unique)
        for values in found:
            for name, value in zip(unique, values, strict=True):
                taken[name].add(value)
        return taken

    def _copy(self, text: str) -> None:
        """COPY rows formatted by CopyRows.text into the table: PostgreSQL's fastest way in."""
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in [*self.rows.columns, *self.rows.stamped])
        # The raw cursor's errors become Django's (IntegrityError), as its own cursor's are.
        with self.connection.cursor() as cursor, self.connection.wrap_database_errors:
            copy = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN WITH (FORMAT csv)"
            # One read of the whole batch: psycopg2 reads 8 KiB at a time by default, and each read takes the GIL
            # back from the thread checking the next batch, which can hold it for a switch interval (5 ms).
            cursor.cursor.copy_expert(copy, io.StringIO(text), size=max(len(text), 8192))

    def _insert_unnest(self, rows: list[dict], key: str) -> set:
        """INSERT ... ON CONFLICT DO NOTHING of the rows; returns the `key` values of those inserted."""
        quote = self.connection.ops.quote_name
        table, returning = quote(self.model._meta.db_table), quote(self.model._meta.get_field(key).column)
        columns = ", ".join(quote(field.column) for field in self.rows.columns)
        stamps = "".join(f", {quote(field.column)}" for field in self.rows.stamped)
        arrays = ", ".join(f"%s::{self._array_type(field)}[]" for field in self.rows.columns)
        # Identifiers from the model's own metadata, quoted; every value travels as a parameter.
        sql = (
            f"INSERT INTO {table} ({columns}{stamps}) SELECT {columns}{', now()' * len(self.rows.stamped)}"  # noqa: S608
            f" FROM unnest({arrays}) AS source({columns}) ON CONFLICT DO NOTHING RETURNING {returning}"
        )
        with self.connection.cursor() as cursor:
            cursor.execute(sql, self.rows.values(rows))
            return {value for (value,) in cursor.fetchall()}

    def _array_type(self, field) -> str:
        """text for every kind of text column: a cast to varchar(n) would cut a long value instead of refusing it."""
        if field.get_internal_type() in ("CharField", "TextField"):
            return "text"
        return field.db_type(self.connection)


@dataclass(frozen=True)
class DemoRows:
    """How a service makes its demo rows 1..N: SQL over generate_series for PostgreSQL (`insert`; `existing`,
    how many of rows first..last exist; `only_missing`, appended to `insert` when some do) with `params`,
    and `row(i)`, the same row in Python for other databases; `key`, the unique field that names a row."""

    insert: str
    existing: str
    only_missing: str
    params: dict
    row: Callable[[int], dict]
    key: str


def seed(model, demo: DemoRows, *, collection: str, count: int, chunk: int = 100_000, progress=None) -> int:
    """Ensure demo rows 1..count exist (idempotent); returns how many were created. One TableLoad, chunk by
    chunk: a chunk whose rows all exist is skipped, one with none is a plain INSERT ... SELECT, and only one
    with some takes the slower path that skips them (ON CONFLICT costs a speculative insertion per row)."""
    with TableLoad(model, collection=collection, rows_expected=count - table_rows(model)) as load:
        created = 0
        for first in range(1, count + 1, chunk):
            last = min(first + chunk - 1, count)
            if is_postgresql(model):
                params = {**demo.params, "count": count, "first": first, "last": last}
                existing = load.scalar(demo.existing, params)
                if existing < last - first + 1:
                    created += load.execute(demo.insert + (demo.only_missing if existing else ""), params)
            else:
                created += len(load.insert([demo.row(i) for i in range(first, last + 1)], key=demo.key))
            if progress:
                progress(last - first + 1)
    return created
