"""Counts per status kept beside a table, for the lists' status badges ("Overdue 1,234"): loans and applications.

Why: the loan and application lists show how many of the viewer's rows are in each status. Counted live, that read
every one of those rows' index entries: 58,504 loans (3.6 ms) and 83,000 applications (4.8 ms) for the busiest
officer of a 1,000,000-loan book, 260,000 loans (15 ms) for a branch manager, the one cost of those pages that grew
with the book (docs/performance.md). A table of counts per (branch, officer, status) answers from a few rows.

Kept by PostgreSQL in the same transaction as the change, by statement triggers with transition tables: one
aggregate per statement, so the daily sweep's set-based updates pay once per statement rather than per row, and a
row is written only where a count changes (a repayment that leaves the loan's status alone writes none). Nothing in
Python has to remember to update them. Rows are only ever appended (see `create_sql`); `compact`, every 10 minutes
from beat (core.tasks), folds them. Elsewhere (SQLite, for `make run`) the lists count live: its books are small.

A counts table has the columns branch_id, officer_id, status and n, like `postloan.LoanStatusCount`; a status's
count is the sum of its rows' n. A load with the triggers off (`generate_load`, as superuser, with
session_replication_role = replica) calls `rebuild` afterwards.
"""

from django.db import connection, connections, migrations, transaction
from django.db.models import Count, QuerySet, Sum


def are_kept() -> bool:
    return connection.vendor == "postgresql"


def per_status(
    listed: QuerySet, kept: QuerySet, *, officers: list, branch_id: int | None, narrowed: bool
) -> dict[str, int]:
    """{status: count} of a list's rows under its filters but the status. `kept` is the counts table's rows in the
    viewer's branch scope, narrowed here as the list is: to each of `officers` that is given ("mine", one officer)
    and to `branch_id`. When other filters narrow the list (`narrowed`: a product, dates, a search), or where no
    counts are kept, the list's own rows are counted."""
    for officer_id in filter(None, officers):
        kept = kept.filter(officer_id=officer_id)
    if branch_id:
        kept = kept.filter(branch_id=branch_id)
    if narrowed or not are_kept():
        # COUNT(*), not COUNT(id): an index on (officer, branch, status) answers alone (an index-only scan).
        rows = listed.order_by().values("status").annotate(total=Count("*"))
    else:
        rows = kept.order_by().values("status").annotate(total=Sum("n")).filter(total__gt=0)
    return {row["status"]: row["total"] for row in rows}


def create_sql(source: str, counts: str) -> list[str]:
    """The trigger function and the triggers that keep `counts` in step with `source`; emptying `source` with
    TRUNCATE (the test runner's flush, a cleanup) empties `counts` too.

    Each statement appends its net change per (branch, officer, status) as new rows (+2 active, -1 overdue) and
    never updates a row: two transactions changing the same officer's counts never wait for each other, and a
    posting cannot deadlock with the nightly sweep over a shared count row. `compact` folds the rows together."""
    grouped = "GROUP BY 1, 2, 3 HAVING sum(d) <> 0"
    insert = (
        f"INSERT INTO {counts} (branch_id, officer_id, status, n) SELECT branch_id, officer_id, status, sum(d) FROM"
    )
    inserted = f"(SELECT branch_id, officer_id, status, 1 AS d FROM new_rows) AS c {grouped}"
    deleted = f"(SELECT branch_id, officer_id, status, -1 AS d FROM old_rows) AS c {grouped}"
    updated = (
        "(SELECT branch_id, officer_id, status, -1 AS d FROM old_rows "
        f"UNION ALL SELECT branch_id, officer_id, status, 1 FROM new_rows) AS c {grouped}"
    )
    function = f"{counts}_keep"
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM {counts};
    ELSIF TG_OP = 'INSERT' THEN
        {insert} {inserted};
    ELSIF TG_OP = 'DELETE' THEN
        {insert} {deleted};
    ELSE
        {insert} {updated};
    END IF;
    RETURN NULL;
END
$$""",
        f"CREATE TRIGGER {counts}_insert AFTER INSERT ON {source} REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {counts}_update AFTER UPDATE ON {source} REFERENCING OLD TABLE AS old_rows "
        f"NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {counts}_delete AFTER DELETE ON {source} REFERENCING OLD TABLE AS old_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {counts}_truncate AFTER TRUNCATE ON {source} FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    ]


def compact(counts: str) -> int:
    """Fold a counts table's rows into one per (branch, officer, status), dropping those that add up to nothing;
    returns how many rows it holds now. One statement: readers see the rows before or after, never half, and rows
    appended meanwhile (not in this statement's snapshot) stay as they are."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH folded AS (DELETE FROM {counts} RETURNING branch_id, officer_id, status, n) "
            f"INSERT INTO {counts} (branch_id, officer_id, status, n) "
            "SELECT branch_id, officer_id, status, sum(n) FROM folded GROUP BY 1, 2, 3 HAVING sum(n) <> 0"
        )
        return cursor.rowcount


def drop_sql(source: str, counts: str) -> list[str]:
    return [
        *(
            f"DROP TRIGGER IF EXISTS {counts}_{event} ON {source}"
            for event in ("insert", "update", "delete", "truncate")
        ),
        f"DROP FUNCTION IF EXISTS {counts}_keep()",
    ]


def rebuild(source: str, counts: str, *, using=None) -> None:
    """Count `source` again from scratch. Writes to it wait meanwhile (SHARE lock), so no change slips between the
    count and the end of the transaction."""
    database = connections[using or "default"]
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {source} IN SHARE MODE")
        cursor.execute(f"DELETE FROM {counts}")
        cursor.execute(
            f"INSERT INTO {counts} (branch_id, officer_id, status, n) "
            f"SELECT branch_id, officer_id, status, count(*) FROM {source} GROUP BY 1, 2, 3"
        )


def migration_operations(source: str, counts: str) -> list:
    """For the migration that creates a counts table: triggers on PostgreSQL, then the first count."""

    def forward(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in create_sql(source, counts):
            schema_editor.execute(statement)
        rebuild(source, counts, using=schema_editor.connection.alias)

    def backward(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in drop_sql(source, counts):
                schema_editor.execute(statement)

    return [migrations.RunPython(forward, backward)]
