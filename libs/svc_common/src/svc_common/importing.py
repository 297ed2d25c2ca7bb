"""Import a service's own data from CSV or JSON Lines: `manage.py import_products FILE` (and `import_users`).

- **Formats.** CSV with a header row naming the columns (UTF-8, a BOM is fine), or JSON Lines: one JSON
  object per line. The columns are the API's writable fields; an unknown CSV column stops the import before
  any row is read. In CSV an empty optional cell takes the field's default.
- **Checks.** Every row goes through the fields of the API's own input serializer (the same lengths, ranges
  and formats as a POST), without its per-row uniqueness query: the table's unique indexes refuse a row
  that already exists, one statement per batch (svc_common.bulk). Checking is most of an import's Python
  time, so a text or decimal value that plainly passes skips DRF's generic machinery (fast_check) and fields
  remember the values they accepted (RowChecker); a value either path does not accept at once is checked
  by DRF itself, so every refusal reads as the API's.
- **Bad rows** are reported with their line number (where the record starts) and the reason; the good
  rows are kept. A key repeated in the file is reported on every line after its first.
- **Batches** (default 5,000 rows) go to svc_common.bulk.TableLoad, which picks incremental or rebuild
  mode, runs ANALYZE and publishes one invalidation at the end.
"""

import csv
import datetime
import io
import json
import queue
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rest_framework import serializers
from rest_framework.fields import SkipField, empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator, UniqueValidator
from tqdm import tqdm

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator
from django.db import connections

from .bulk import CopyRows, TableLoad, is_postgresql

FORMATS = ("csv", "jsonl")
DEFAULT_BATCH_SIZE = 5_000


class ImportFormatError(ValueError):
    """The file cannot be imported at all (unknown format, bad header): nothing was loaded."""


@dataclass(frozen=True)
class ImportSpec:
    """What a service imports: its model, the serializer whose fields check a row, the unique fields a row
    is named by in reports, the cache collection, and a normaliser applied after the checks."""

    model: type
    serializer_class: type[serializers.Serializer]
    keys: tuple[str, ...]
    collection: str
    normalise: Callable[[dict], dict] = lambda data: data  # noqa: E731


@dataclass
class ImportResult:
    read: int = 0
    created: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    mode: str = ""

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0


def detect_format(path: str, declared: str | None) -> str:
    if declared:
        return declared
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise ImportFormatError(f"Cannot tell the format of {path}: name it .csv or .jsonl, or pass --format.")


def count_lines(path: str) -> int | None:
    """Lines in the file (a progress bar's total, and the load's expected size); None for stdin."""
    if path == "-":
        return None
    lines = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


# Values a field's check may share between rows: immutable ones.
MEMO_TYPES = frozenset({int, float, Decimal, str, bool, datetime.date, datetime.datetime, datetime.time, uuid.UUID})
# What a text field's own validators refuse, found in one pass: a null character or a surrogate code point.
UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
# Validators a text value's fast check covers itself (length and UNSAFE_TEXT), by exact type.
COVERED_VALIDATORS = (MaxLengthValidator, MinLengthValidator, ProhibitNullCharactersValidator)


def fast_check(checked: serializers.Field) -> Callable | None:
    """A faster run_validation for a field of the kinds an import meets most (text, decimals), or None.

    DRF's generic run_validation is most of an import's checking (the figures: docs/data.md, "How it loads").
    The fast path accepts only values that plainly pass and returns what DRF would (a trimmed str, a quantized
    Decimal); anything else goes through the field's own run_validation, so every refusal is DRF's, word for
    word. A test checks both agree on every field of both services' imports, over the awkward values
    (tests/product/test_commands.py, tests/user/test_commands.py)."""
    cls = type(checked)
    if isinstance(checked, serializers.CharField) and (
        cls.run_validation is serializers.CharField.run_validation
        and cls.to_internal_value is serializers.CharField.to_internal_value
    ):
        return _text_check(checked)
    if cls is serializers.DecimalField and not checked.localize:
        return _decimal_check(checked)
    return None


def _text_check(checked: serializers.CharField) -> Callable | None:
    """A str that is not blank, whose trimmed length is within the field's limits, that holds no null or
    surrogate and passes the field's other validators: trimmed, as DRF's CharField returns it."""
    validators, others = list(checked.validators), []
    for validator in validators:
        if type(validator) in COVERED_VALIDATORS or isinstance(validator, ProhibitSurrogateCharactersValidator):
            continue
        if getattr(validator, "requires_context", False):
            return None
        others.append(validator)
    longest = min((v.limit_value for v in validators if type(v) is MaxLengthValidator), default=None)
    shortest = max((v.limit_value for v in validators if type(v) is MinLengthValidator), default=0)
    trim, run_validation = checked.trim_whitespace, checked.run_validation

    def check(value):
        if type(value) is str:
            text = value.strip() if trim else value
            if text and shortest <= len(text) and (longest is None or len(text) <= longest):
                if not UNSAFE_TEXT.search(text) and _passes(others, text):
                    return text
        return run_validation(value)

    return check


def _decimal_check(checked: serializers.DecimalField) -> Callable | None:
    """A plain decimal str (digits, then at most decimal_places after a point, within max_digits) that passes
    the field's validators: the Decimal quantized to decimal_places, as DRF's DecimalField returns it (within
    those limits quantizing only adds zeros)."""
    places, digits = checked.decimal_places, checked.max_digits
    if places is None or digits is None or digits - places < 1:
        return None
    if any(getattr(validator, "requires_context", False) for validator in checked.validators):
        return None
    plain = re.compile(rf"\d{{1,{digits - places}}}(?:\.\d{{1,{places}}})?" if places else rf"\d{{1,{digits}}}")
    step, validators, run_validation = Decimal(1).scaleb(-places), list(checked.validators), checked.run_validation

    def check(value):
        if type(value) is str and plain.fullmatch(value):
            number = Decimal(value).quantize(step)
            if _passes(validators, number):
                return number
        return run_validation(value)

    return check


def _passes(validators: list, value) -> bool:
    try:
        for validator in validators:
            validator(value)
    except (serializers.ValidationError, DjangoValidationError):
        return False
    return True


class RowChecker:
    """The writable fields of the API's input serializer, run field by field on one row.

    Text and decimal fields take fast_check's path. Every field but text remembers the values it accepted
    (strings only, up to MEMO_SIZE a field): a price or a stock repeats from row to row, and a field's
    run_validation is a pure function of its input once the serializer's uniqueness validators are gone."""

    MEMO_SIZE = 65_536

    def __init__(self, spec: ImportSpec):
        self.spec = spec
        self.fields = {name: f for name, f in spec.serializer_class().fields.items() if not f.read_only}
        for checked in self.fields.values():
            # Uniqueness is the table's to check, once per batch, not one query per row.
            checked.validators = [v for v in checked.validators if not isinstance(v, UniqueValidator)]
        self.names = frozenset(self.fields)
        # (name, required, how a value is checked, the values it accepted or None for text)
        self.plan = []
        for name, checked in self.fields.items():
            fast = fast_check(checked)
            text = isinstance(checked, serializers.CharField)
            self.plan.append((name, checked.required, fast or checked.run_validation, None if text else {}))

    def check(self, record: dict) -> dict | str:
        """The row's validated values, or one line saying what is wrong with it."""
        if not self.names.issuperset(record):
            unknown = sorted(str(name) for name in record if name not in self.fields)
            return f"unknown field(s): {', '.join(unknown)}"
        data, errors = {}, []
        for name, required, run_validation, memo in self.plan:
            value = record.get(name, empty)
            if value is None or (value == "" and not required):
                value = empty
            elif memo is not None and type(value) is str and (known := memo.get(value, empty)) is not empty:
                data[name] = known
                continue
            try:
                data[name] = accepted = run_validation(value)
            except SkipField:
                continue
            except serializers.ValidationError as exc:
                errors.append(f"{name}: {' '.join(str(message) for message in exc.detail)}")
                continue
            if memo is not None and type(value) is str and type(accepted) in MEMO_TYPES:
                if len(memo) >= self.MEMO_SIZE:
                    memo.clear()
                memo[value] = accepted
        return "; ".join(errors) if errors else self.spec.normalise(data)


def csv_records(handle, fields: dict) -> Iterator[tuple[int, dict | str]]:
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ImportFormatError(f"CSV header: not valid CSV: {exc}") from exc
    if header is None:
        return
    header = [name.strip() for name in header]
    unknown = [name for name in header if name not in fields]
    missing = [name for name, checked in fields.items() if checked.required and name not in header]
    if unknown or missing:
        problems = [f"unknown column(s): {', '.join(unknown)}"] * bool(unknown)
        problems += [f"missing column(s): {', '.join(missing)}"] * bool(missing)
        raise ImportFormatError(f"CSV header {header}: {'; '.join(problems)}. Columns: {', '.join(fields)}.")
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # One bad row (a field past csv.field_size_limit): the reader drops the rest of that line and goes on.
            yield line, f"not valid CSV: {exc}"
        else:
            if len(values) != len(header):
                yield line, f"{len(values)} values for {len(header)} columns"
            elif any(values):
                yield line, dict(zip(header, values))  # noqa: B905 (the lengths are equal, checked above)
        line = reader.line_num + 1


def jsonl_records(handle) -> Iterator[tuple[int, dict | str]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as exc:
            yield line, f"not valid JSON: {exc}"
            continue
        yield line, record if isinstance(record, dict) else "not a JSON object"


class Batch:
    """Checked rows waiting to be inserted, with their line numbers; repeats of a key are refused here. `text`:
    the rows as COPY reads them, formatted before the batch is handed to the writing thread."""

    def __init__(self, keys: tuple[str, ...]):
        self.rows: list[dict] = []
        self.lines: list[int] = []
        self.seen: list[tuple[str, dict]] = [(key, {}) for key in keys]
        self.text: str | None = None

    def add(self, line: int, row: dict) -> str | None:
        for key, seen in self.seen:
            if (first := seen.get(row[key])) is not None:
                return f"{key} {row[key]!r} repeats line {first}"
        for key, seen in self.seen:
            seen[row[key]] = line
        self.rows.append(row)
        self.lines.append(line)
        return None


class BatchWriter:
    """Inserts checked batches into the table through one TableLoad, on a thread of its own while the caller
    reads, checks and formats the next batch: psycopg2 lets go of the GIL while PostgreSQL works, so on two
    cores checking and writing overlap. Inside a caller's transaction (a test, an atomic block in a shell) it
    writes inline instead, in that transaction: another connection would not see it."""

    _done = object()

    def __init__(self, spec: ImportSpec, result: ImportResult, *, total: int | None, progress):
        self.spec, self.result, self.total, self.progress = spec, result, total, progress
        self.inline = connections[spec.model.objects.db].in_atomic_block
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.thread = None if self.inline else threading.Thread(target=self._run, name="import-writer", daemon=True)
        self.copy_rows = CopyRows(spec.model) if is_postgresql(spec.model) and not self.inline else None

    def __enter__(self) -> "BatchWriter":
        if self.inline:
            self.load = TableLoad(self.spec.model, collection=self.spec.collection, rows_expected=self.total)
            self.result.mode = self.load.__enter__().mode
        else:
            self.thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.inline:
            self.load.__exit__(exc_type, exc, tb)
            return
        # An exception in the caller rolls a rebuild back: the writer raises inside its TableLoad.
        self.queue.put(self._done if exc_type is None else exc or exc_type())
        self.thread.join()
        if self.error is not None and exc_type is None:
            raise self.error

    def put(self, batch: Batch) -> None:
        if self.inline:
            self._write(self.load, batch)
        elif self.error is not None:
            raise self.error
        else:
            if self.copy_rows is not None:
                batch.text = self.copy_rows.text(batch.rows)
            self.queue.put(batch)

    def _run(self) -> None:
        try:
            with TableLoad(self.spec.model, collection=self.spec.collection, rows_expected=self.total) as load:
                self.result.mode = load.mode
                while (batch := self.queue.get()) is not self._done:
                    if isinstance(batch, BaseException):
                        raise batch
                    self._write(load, batch)
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc
            # Keep taking batches until the caller stops, so that it never waits on a full queue.
            while (item := self.queue.get()) is not self._done and not isinstance(item, BaseException):
                pass
        finally:
            connections.close_all()  # this thread's own connection

    def _write(self, load: TableLoad, batch: Batch) -> None:
        key = self.spec.keys[0]
        inserted = load.insert(batch.rows, key=key, text=batch.text)
        self.result.created += len(inserted)
        taken = " or ".join(self.spec.keys)
        for line, row in zip(batch.lines, batch.rows, strict=True):
            if row[key] not in inserted:
                self.result.rejected.append((line, f"{taken} already exists ({key} {row[key]!r})"))
        self.progress(len(batch.rows))


def import_file(
    spec: ImportSpec,
    path: str,
    *,
    fmt: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    stdin=None,
    progress: Callable[[int], None] = lambda rows: None,
    total: int | None = None,
) -> ImportResult:
    """Load the file; returns what was read, created and rejected. ImportFormatError: nothing loaded."""
    fmt = detect_format(path, fmt)
    if fmt not in FORMATS:
        raise ImportFormatError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    checker = RowChecker(spec)
    result = ImportResult()
    started = time.perf_counter()
    with _open(path, stdin) as handle:
        records = csv_records(handle, checker.fields) if fmt == "csv" else jsonl_records(handle)
        first = next(records, None)  # a bad header fails here, before the load begins
        with BatchWriter(spec, result, total=total, progress=progress) as writer:
            batch = Batch(spec.keys)
            for line, record in _chain(first, records):
                result.read += 1
                checked = checker.check(record) if isinstance(record, dict) else record
                problem = checked if isinstance(checked, str) else batch.add(line, checked)
                if problem is not None:
                    result.rejected.append((line, problem))
                    progress(1)
                if len(batch.rows) >= batch_size:
                    writer.put(batch)
                    batch = Batch(spec.keys)
            writer.put(batch)
    result.rejected.sort()
    result.seconds = time.perf_counter() - started
    return result


def _chain(first, rest):
    if first is not None:
        yield first
        yield from rest


def _open(path: str, stdin):
    """Text in UTF-8; bytes that are not decode to surrogates, which the serializer's text fields refuse,
    so a badly encoded row is one bad row, not the end of the import."""
    if path == "-":
        return io.TextIOWrapper(stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8-sig", errors="surrogateescape", newline="")  # noqa: SIM115 (the caller's with)


class ImportCommand(BaseCommand):
    """manage.py import_<entity> FILE: a subclass names its ImportSpec; see the module docstring."""

    spec: ImportSpec
    shown_rejects = 20

    def add_arguments(self, parser):
        parser.add_argument("file", help="a CSV file with a header row, or JSON Lines; - reads stdin")
        parser.add_argument("--format", choices=FORMATS, help="csv or jsonl (default: from the file name)")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="rows per INSERT")
        parser.add_argument("--errors", metavar="FILE", help="write every rejected row as CSV (line, reason)")

    def handle(self, *args, file, format, batch_size, errors, **options):
        try:
            fmt = detect_format(file, format)
            lines = count_lines(file)
        except (ImportFormatError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        total = None if lines is None else max(0, lines - (fmt == "csv"))
        with tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr, disable=None, mininterval=0.5) as bar:
            try:
                result = import_file(
                    self.spec, file, fmt=fmt, batch_size=batch_size, stdin=sys.stdin, progress=bar.update, total=total
                )
            except ImportFormatError as exc:
                raise CommandError(str(exc)) from exc
        self.report(result, errors)

    def report(self, result: ImportResult, errors: str | None) -> None:
        for line, reason in result.rejected[: self.shown_rejects]:
            self.stderr.write(f"line {line}: {reason}")
        if len(result.rejected) > self.shown_rejects:
            more = len(result.rejected) - self.shown_rejects
            self.stderr.write(f"... and {more} more{'' if errors else ' (--errors FILE lists them all)'}")
        if errors:
            with open(errors, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "reason"])
                writer.writerows(result.rejected)
        self.stdout.write(
            f"{self.spec.collection}: {result.read:,} rows read, {result.created:,} created,"
            f" {len(result.rejected):,} rejected in {result.seconds:.1f} s ({result.rate:,.0f} rows/s, {result.mode})"
        )
        if result.rejected:
            raise CommandError(f"{len(result.rejected):,} rows rejected; the other rows were loaded.")
