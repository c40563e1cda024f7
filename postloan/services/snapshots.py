"""Month-end snapshots (`LoanMonthEnd`) for the roll rates, written by the daily sweep.

When the sweep's business date is the last day of its month, after every loan is swept, one `INSERT … SELECT` copies
each open loan's bucket, days past due, class and outstanding principal into the month end's rows: set-based (one
statement whatever the number of loans) and idempotent (a month end already written is not written again, and the
unique (loan, month_end) pair makes two runs at once write each row once).

Safe to miss: a run in the first days of a month makes sure the previous month end exists, so when the sweep did not
run on the last day of the month, the first run of the next month writes it — with the loans as they are on that
run's day, not as they were on the month end (an approximation: a loan that became overdue or paid in between is
counted as it is now; `taken_on` records the day the rows were taken). Only the latest month end is caught up, and
only within `CATCH_UP_DAYS` of it: after a longer outage the loans have aged too far to stand for the month end, so
it stays missing and the roll rates leave its pairs out rather than report moves that did not happen.
"""

import logging
from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from ..models import OPEN_LOAN_STATUSES, Loan, LoanMonthEnd

logger = logging.getLogger(__name__)

# How late a missed month end may still be written with the loans' state of the catch-up run.
CATCH_UP_DAYS = 7


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).day == 1


def month_end_for(business_date: date) -> date | None:
    """The month end a sweep on `business_date` makes sure is written: that day itself when it ends its month,
    otherwise the last day of the month before while it is at most `CATCH_UP_DAYS` old (None after that)."""
    if is_month_end(business_date):
        return business_date
    previous = business_date.replace(day=1) - timedelta(days=1)
    return previous if (business_date - previous).days <= CATCH_UP_DAYS else None


def _snapshot_sql() -> str:
    quote = connection.ops.quote_name
    snapshot, loan = LoanMonthEnd._meta, Loan._meta

    def column(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    targets = [
        "loan",
        "month_end",
        "branch",
        "product",
        "officer",
        "status",
        "dpd",
        "bucket",
        "classification",
        "outstanding_principal",
        "taken_on",
        "created_at",
    ]
    copied = ["branch", "product", "officer", "status", "dpd", "bucket", "classification", "outstanding_principal"]
    sources = {name: f"l.{column(loan, name)}" for name in copied}
    sources |= {
        "loan": f"l.{quote(loan.pk.column)}",
        "month_end": "%s",
        "taken_on": "%s",
        "created_at": "%s",
    }
    statuses = ", ".join(["%s"] * len(OPEN_LOAN_STATUSES))
    return (
        f"INSERT INTO {quote(snapshot.db_table)} ({', '.join(column(snapshot, name) for name in targets)}) "
        f"SELECT {', '.join(sources[name] for name in targets)} "
        f"FROM {quote(loan.db_table)} l "
        f"WHERE l.{column(loan, 'status')} IN ({statuses}) AND l.{column(loan, 'disbursed_on')} <= %s "
        # A month end with any row is written: a catch-up run must not add today's loans to it.
        f"AND NOT EXISTS (SELECT 1 FROM {quote(snapshot.db_table)} s WHERE s.{column(snapshot, 'month_end')} = "
        "%s) "
        "ON CONFLICT DO NOTHING"
    )


def month_end_snapshot(*, month_end: date, taken_on: date | None = None) -> int:
    """Write the open loans' rows for `month_end` unless that month end has rows already; return how many were
    written. One statement; `taken_on` (default: the month end) is the business date of the run."""
    if not is_month_end(month_end):
        raise ValueError(f"{month_end} is not the last day of its month.")
    taken_on = taken_on or month_end
    if taken_on < month_end:
        raise ValueError("A month end cannot be taken before it has come.")
    prepared = {
        name: LoanMonthEnd._meta.get_field(name).get_db_prep_value(value, connection)
        for name, value in (("month_end", month_end), ("taken_on", taken_on), ("created_at", timezone.now()))
    }
    # In the order of the placeholders: the SELECT list, then the WHERE clause.
    params = [
        prepared["month_end"],
        prepared["taken_on"],
        prepared["created_at"],
        *[str(status) for status in OPEN_LOAN_STATUSES],
        prepared["month_end"],
        prepared["month_end"],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql(), params)
        written = max(cursor.rowcount, 0)
    if written:
        logger.info("Month end %s: %s open loans written (taken on %s).", month_end, written, taken_on)
    return written
