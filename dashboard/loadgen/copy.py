"""Streaming rows into PostgreSQL with COPY: one text buffer per table and batch, primary keys handed out in Python
and reserved on each table's sequence, and the values written exactly as PostgreSQL's text format reads them.

Rows are strings built by the caller (an f-string per table is several times faster than formatting value by value);
`Table.columns` names what each line holds, and `CopyWriter.table` refuses a column list that is not exactly the
model's columns, so a field added later fails loudly instead of being left to a default that the database lacks.
"""

import io
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction
from django.db.models import Model

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Shanghai has kept UTC+8 all year since 1991: timestamps are epoch seconds, written with a fixed offset.
_UTC_OFFSET = 8 * 3600
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_COPY_CHUNK = 1 << 20
SWEEP_SECONDS = 30 * 60  # the daily sweep runs at 00:30


def text(value: str) -> str:
    """A text value escaped for COPY's text format (most values need nothing, and `in` is cheaper than translate)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def jsonb(value) -> str:
    """A JSON value as Django's JSONField stores it, escaped for COPY."""
    return text(json.dumps(value, ensure_ascii=False))


def words(values) -> str:
    """A JSON list of plain codes (ASCII, nothing to escape), as json.dumps writes it: ["a", "b"]."""
    return "[" + ", ".join(f'"{value}"' for value in values) + "]" if values else "[]"


_CENTS = [f"0.{fen:02d}" for fen in range(100)]


def money(fen: int) -> str:
    """An amount held in whole fen, as the numeric text of yuan: 123456 -> "1234.56"."""
    if fen < 100:
        return _CENTS[fen] if fen >= 0 else f"-{money(-fen)}"
    digits = str(fen)
    return f"{digits[:-2]}.{digits[-2:]}"


def flag(value: bool) -> str:
    return "t" if value else "f"


# "HH:MM:SS+08" for every second of a day: formatting a timestamp is then two lookups and a concatenation.
_TIMES = [f" {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+08" for second in range(86400)]


class Days:
    """ISO strings of day numbers (date ordinals), cached: a book spans a few thousand days."""

    def __init__(self):
        self._iso: dict[int, str] = {}
        self._local: dict[int, str] = {}
        self._sweeps: dict[int, str] = {}

    def iso(self, day: int) -> str:
        found = self._iso.get(day)
        if found is None:
            found = self._iso[day] = date.fromordinal(day).isoformat()
        return found

    def iso_or_null(self, day: int | None) -> str:
        return NULL if day is None else self.iso(day)

    def moment(self, seconds: int) -> str:
        """Epoch seconds as a timestamptz literal in Shanghai time: "2026-03-16 09:30:00+08"."""
        day, second = divmod(seconds + _UTC_OFFSET, 86400)
        found = self._local.get(day)
        if found is None:
            found = self._local[day] = self.iso(day + _EPOCH_ORDINAL)
        return found + _TIMES[second]

    def sweep_moment(self, day: int) -> str:
        """When the daily sweep of a day wrote its rows: 00:30."""
        found = self._sweeps.get(day)
        if found is None:
            found = self._sweeps[day] = self.moment(at(day, SWEEP_SECONDS))
        return found

    def moment_or_null(self, seconds: int | None) -> str:
        return NULL if seconds is None else self.moment(seconds)


def at(day: int, seconds_of_day: int = 0) -> int:
    """Epoch seconds of a Shanghai wall-clock time on a day ordinal."""
    return (day - _EPOCH_ORDINAL) * 86400 + seconds_of_day - _UTC_OFFSET


def day_of(seconds: int) -> int:
    """The Shanghai day ordinal of epoch seconds."""
    return (seconds + _UTC_OFFSET) // 86400 + _EPOCH_ORDINAL


def to_date(day: int) -> date:
    return date.fromordinal(day)


@dataclass
class Table:
    """One table's pending lines, its id counter and what was written to it."""

    model: type[Model]
    name: str
    columns: tuple[str, ...]
    lines: list[str] = field(default_factory=list)
    next_id: int = 0
    reserved_to: int = 0
    sequence: str = ""
    rows: int = 0
    seconds: float = 0.0
    step: int = 1  # with several generating processes, process p of P uses ids first + p, first + p + P, …

    def new_id(self) -> int:
        self.next_id += self.step
        return self.next_id - self.step

    def add(self, line: str) -> None:
        self.lines.append(line)


class CopyWriter:
    """The tables of one generation run, flushed together (in registration order, so that rows are inserted after
    the rows they reference) in one transaction per batch.

    With `background=True` a thread with its own database connection COPYs each batch while the caller builds the
    next one: psycopg2 lets go of the GIL while PostgreSQL works, so generating and loading overlap on two cores.
    At most one batch waits in the queue, which bounds memory. (Not inside a transaction: the thread's connection
    would not see the caller's uncommitted rows; tests run without it.)
    """

    def __init__(self, *, background: bool = False, skip_reference_checks: bool = False):
        self.tables: list[Table] = []
        self.flush_seconds = 0.0
        self.generated = 0  # rows handed to flush so far
        self.background = background
        self.skip_reference_checks = skip_reference_checks
        self._jobs: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def table(self, model: type[Model], columns: tuple[str, ...]) -> Table:
        expected = [f.column for f in model._meta.concrete_fields]
        if sorted(expected) != sorted(columns):
            missing, extra = set(expected) - set(columns), set(columns) - set(expected)
            raise RuntimeError(
                f"The load generator's columns for {model._meta.db_table} are out of date "
                f"(missing {sorted(missing)}, unknown {sorted(extra)}); update dashboard/loadgen."
            )
        table = Table(model=model, name=model._meta.db_table, columns=columns)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table.name])
            table.sequence = cursor.fetchone()[0] or ""
            if table.sequence:
                # The first id this run may use; later ids are reserved batch by batch (`flush`).
                cursor.execute("SELECT nextval(%s)", [table.sequence])
                table.next_id = table.reserved_to = cursor.fetchone()[0]
        self.tables.append(table)
        return table

    def flush(self) -> None:
        """Send every table's pending lines to the database, in one transaction; the sequences move past the ids
        used first, so that an insert by anyone else can never take an id a buffered row refers to."""
        job = []
        for table in self.tables:
            reserve = None
            if table.sequence and table.next_id > table.reserved_to:
                reserve = table.next_id - table.step
                table.reserved_to = table.next_id
            if table.lines or reserve is not None:
                self.generated += len(table.lines)
                job.append((table, reserve, table.lines))
                table.lines = []
        if not self.background:
            self._run(job)
            return
        if self._thread is None:
            self._jobs = queue.Queue(maxsize=1)
            self._thread = threading.Thread(target=self._work, name="loadgen-copy", daemon=True)
            self._thread.start()
        self._raise_if_failed()
        self._jobs.put(job)

    def finish(self) -> None:
        """Wait until every batch is in the database (and its thread's connection closed)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _work(self) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    break
                if self._error is None:
                    self._run(job)
        except BaseException as error:  # handed to the generating thread at its next flush or at finish
            self._error = error
            while self._jobs.get() is not None:  # let the producer finish putting
                pass
        finally:
            connection.close()

    def _run(self, job) -> None:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            raw = getattr(cursor, "cursor", cursor)
            # A lost batch is regenerated by rerunning on a fresh database: no need to wait for the WAL flush.
            cursor.execute("SET LOCAL synchronous_commit = off")
            if self.skip_reference_checks:
                # The foreign-key triggers (one lookup and lock per row and reference) were 40 % of the load's time;
                # as pg_restore does, load first and check the references afterwards (`references_check`).
                cursor.execute("SET LOCAL session_replication_role = replica")
            for table, reserve, lines in job:
                if reserve is not None:
                    # Never backwards: another generating process may have reserved further already.
                    cursor.execute(
                        "SELECT setval(%s, GREATEST(%s, (SELECT last_value FROM " + table.sequence + ")))",
                        [table.sequence, reserve],
                    )
                if not lines:
                    continue
                copy_started = time.perf_counter()
                data = io.BytesIO("".join(lines).encode("utf-8"))
                count = len(lines)
                lines.clear()
                raw.copy_expert(f"COPY {table.name} ({', '.join(table.columns)}) FROM STDIN", data, size=_COPY_CHUNK)
                table.rows += count
                table.seconds += time.perf_counter() - copy_started
        self.flush_seconds += time.perf_counter() - started


def run_in_parallel(statements: list[str], *, workers: int = 2, setup: tuple[str, ...] = ()) -> list:
    """Run SQL statements on `workers` connections of their own, biggest first as given; returns each statement's
    first row (None when it returns none), in the order given. The machine's cores build indexes and vacuum tables
    side by side instead of one after the other."""
    pending: queue.Queue = queue.Queue()
    for position, statement in enumerate(statements):
        pending.put((position, statement))
    results: list = [None] * len(statements)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with connection.cursor() as cursor:
                for statement in setup:
                    cursor.execute(statement)
                while not errors:
                    try:
                        position, statement = pending.get_nowait()
                    except queue.Empty:
                        break
                    cursor.execute(statement)
                    results[position] = cursor.fetchone() if cursor.description else None
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, name=f"loadgen-sql-{n}") for n in range(max(1, workers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def references_check(tables: list[Table]) -> list[str]:
    """Every foreign key of the loaded tables, checked with one anti-join each; returns the broken ones."""
    quote = connection.ops.quote_name
    checks, labels = [], []
    for table in sorted((t for t in tables if t.rows), key=lambda t: -t.rows):
        for model_field in table.model._meta.concrete_fields:
            if not model_field.is_relation:
                continue
            target = model_field.target_field
            parent = target.model._meta.db_table
            column = quote(model_field.column)
            checks.append(
                f"SELECT count(*) FROM {quote(table.name)} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {quote(parent)} p WHERE p.{quote(target.column)} = c.{column})"
            )
            labels.append(f"{table.name}.{model_field.column} → {parent}")
    counts = run_in_parallel(checks)
    return [f"{label}: {row[0]} rows" for label, row in zip(labels, counts, strict=True) if row[0]]


def is_superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


class DeferredIndexes:
    """The loaded tables' indexes that back no constraint, dropped before the load and built again after it (as
    pg_restore does): maintaining a B-tree row by row costs COPY more than writing the rows, sorting once is cheap.

    Primary keys and unique constraints stay, so ids and numbers are still checked as rows go in; unique indexes
    with a condition (no constraint behind them) are checked when they are built again."""

    def __init__(self, tables: list[Table]):
        self.tables = tables
        self.definitions: list[tuple[Table, str]] = []

    def drop(self) -> int:
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            for table in self.tables:
                cursor.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = %s::regclass AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
                    [quote(table.name)],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f"DROP INDEX {name}")
                    self.definitions.append((table, definition))
        return len(self.definitions)

    def restore(self) -> None:
        """Build the dropped indexes again, two at a time, the biggest tables' first (so the two stay busy)."""
        if self.definitions:
            ordered = sorted(self.definitions, key=lambda item: -item[0].rows)
            run_in_parallel(
                [definition for _table, definition in ordered], setup=("SET maintenance_work_mem = '256MB'",)
            )
            self.definitions = []
