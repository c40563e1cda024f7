"""Planned follow-ups of loans: created at disbursement, re-dated when the loan is rescheduled, one overdue call per
overdue episode, and a daily safety net that creates whatever a lost task did not.

Every writer here may run twice or at the same time as another (the disbursement task, its retry, the daily sweep):
rows are inserted with `ON CONFLICT DO NOTHING` against the unique constraints of FollowUp, one per (loan, kind,
sequence) for the plan's kinds and one per (loan, episode_start) for overdue calls, so whoever comes second inserts
nothing. On PostgreSQL one statement per chunk inserts the rows and, from what it returns, their history rows: only
the rows this call inserted get a creation record, and nothing is read back. Elsewhere (SQLite in development) the
rows go through `bulk_create(ignore_conflicts=True)` stamped with one `created_at`, and reading back the rows carrying
that stamp tells which rows this call inserted.
"""

import logging
from collections import Counter
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.dates import local_today
from postloan.models import OPEN_LOAN_STATUSES, Loan, LoanStatus

from .models import FollowUp, FollowUpKind, FollowUpPolicy, FollowUpStatus
from .models.followups import PLANNED_KINDS
from .policy import DEFAULT_POLICY, PlanPolicy, plan

logger = logging.getLogger(__name__)

# Loans per transaction of the safety net, three queries each (loans, policies, insert): 500, 1,000 and 2,000 plan
# 10,000 loans in the same time on the bench book, and a smaller chunk holds its locks for less.
SWEEP_CHUNK_SIZE = 500
ONE_DAY = timedelta(days=1)
_LOAN_FIELDS = ("pk", "branch_id", "officer_id", "product_id", "disbursed_on", "maturity_date", "term_months")
# What a plan depends on in a policy (a product's FollowUpPolicy has the same attributes).
_POLICY_RULES = tuple(field.name for field in fields(PlanPolicy))
# The columns a planner sets on each row, in the order of the row tuples built here; every other column of a new
# follow-up takes its model default (the same for every row).
_ROW_FIELDS = ("loan", "kind", "sequence", "episode_start", "branch", "officer", "due_on", "planned_on")


def numbered_plan(*, disbursed_on: date, maturity_on: date, term_months: int | None, policy=None) -> dict:
    """The plan as {(kind, sequence): due_on}: quarterly follow-ups are numbered 1, 2, 3… by date, the others 1."""
    counts: Counter = Counter()
    numbered = {}
    for kind, due_on in plan(
        disbursed_on=disbursed_on, maturity_on=maturity_on, policy=policy, term_months=term_months
    ):
        counts[kind] += 1
        numbered[(kind, counts[kind])] = due_on
    return numbered


def _loans(loan_ids) -> list[dict]:
    """The loan columns the plan needs, with the product whose policy applies."""
    return list(Loan.objects.filter(pk__in=loan_ids).order_by("pk").values(*_LOAN_FIELDS))


def _policies(loans: list[dict]) -> dict[int, FollowUpPolicy]:
    products = {loan["product_id"] for loan in loans}
    return {policy.product_id: policy for policy in FollowUpPolicy.objects.filter(product_id__in=products)}


def _plan_of(loan: dict, policies: dict[int, FollowUpPolicy], plans: dict | None = None) -> dict:
    """The loan's numbered plan. `plans` caches it by everything the plan depends on (the policy by its values, as
    a product's policy may be edited during a sweep): loans disbursed on one day for one term share it (the returned
    dict is shared then, and read only)."""
    policy = policies.get(loan["product_id"])
    rules = tuple(getattr(policy or DEFAULT_POLICY, name) for name in _POLICY_RULES)
    key = (loan["disbursed_on"], loan["maturity_date"], loan["term_months"], rules)
    if plans is not None and key in plans:
        return plans[key]
    numbered = numbered_plan(
        disbursed_on=loan["disbursed_on"],
        maturity_on=loan["maturity_date"],
        term_months=loan["term_months"],
        policy=policy,
    )
    if plans is not None:
        plans[key] = numbered
    return numbered


def _planned_rows(loan: dict, wanted: dict) -> list[tuple]:
    """Row tuples (in the order of _ROW_FIELDS) of the loan's planned follow-ups in `wanted`."""
    pk, branch_id, officer_id = loan["pk"], loan["branch_id"], loan["officer_id"]
    return [
        (pk, kind, sequence, None, branch_id, officer_id, due_on, due_on) for (kind, sequence), due_on in wanted.items()
    ]


def _insert(rows: list[tuple], *, stamp: datetime) -> list[int]:
    """Insert the rows (tuples in the order of _ROW_FIELDS) that do not exist yet and write the history of those this
    call inserted; returns their ids. Call it inside a transaction: the rows and their history commit together."""
    if not rows:
        return []
    if _inserts_with_returning():
        return _insert_returning(rows, stamp=stamp)
    return _insert_and_read_back(rows, stamp=stamp)


def _inserts_with_returning() -> bool:
    """Whether the database says which rows `ON CONFLICT DO NOTHING` inserted, in one statement with their history:
    PostgreSQL does; SQLite in development takes the read-back path (the tests switch paths here)."""
    return connection.vendor == "postgresql"


def _insert_returning(rows: list[tuple], *, stamp: datetime) -> list[int]:
    """PostgreSQL: one statement inserts the rows from one array per column and copies what it inserted into the
    history table, so Python neither builds model instances nor reads the rows back."""
    meta = FollowUp._meta
    given = [meta.get_field(name) for name in _ROW_FIELDS]
    defaults = [field for field in meta.concrete_fields if not field.primary_key and field.name not in _ROW_FIELDS]
    default_values = {"created_at": stamp, "updated_at": stamp}
    # In the order of the placeholders: the constants of the SELECT list, then the arrays of its FROM.
    params = [
        field.get_db_prep_save(default_values.get(field.name, field.get_default()), connection) for field in defaults
    ]
    params += [list(column) for column in zip(*rows, strict=True)]
    qn = connection.ops.quote_name
    columns = ", ".join(qn(field.column) for field in given + defaults)
    arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in given)
    constants = ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in defaults)
    with_history = getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT given.*, {constants} FROM unnest({arrays}) AS given "
        f"ON CONFLICT DO NOTHING RETURNING {'*' if with_history else qn(meta.pk.column)}"
    )
    if with_history:
        history_sql, history_params = _history_of_inserted(stamp)
        sql = f"WITH inserted AS ({sql}) {history_sql}"
        params += history_params
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [pk for (pk,) in cursor.fetchall()]


def _history_of_inserted(stamp: datetime) -> tuple[str, list]:
    """The INSERT that writes a creation record ("+") of each row of `inserted`, as bulk_history_create would: dated
    `stamp`, by the user of the current request if any, with its default (empty) change reason."""
    history = FollowUp.history.model
    qn = connection.ops.quote_name
    copied = ", ".join(qn(field.column) for field in history.tracked_fields)
    user = history.get_default_history_user(FollowUp())
    sql = (
        f"INSERT INTO {qn(history._meta.db_table)} ({copied}, history_date, history_type, history_change_reason, "
        f"history_user_id) SELECT {copied}, CAST(%s AS timestamptz), '+', '', CAST(%s AS bigint) FROM inserted "
        f"RETURNING {qn(FollowUp._meta.pk.column)}"
    )
    return sql, [stamp, user.pk if user else None]


def _insert_and_read_back(rows: list[tuple], *, stamp: datetime) -> list[int]:
    """Other databases: bulk_create, then the rows carrying this call's `created_at` stamp are the ones it inserted."""
    attnames = [FollowUp._meta.get_field(name).attname for name in _ROW_FIELDS]
    FollowUp.objects.bulk_create(
        [FollowUp(created_at=stamp, **dict(zip(attnames, row, strict=True))) for row in rows], ignore_conflicts=True
    )
    inserted = list(
        FollowUp.objects.filter(
            loan_id__in={row[0] for row in rows}, kind__in={row[1] for row in rows}, created_at=stamp
        )
    )
    if inserted:
        FollowUp.history.bulk_history_create(inserted, default_date=stamp)
    return [row.pk for row in inserted]


def followups_plan_for_loan(*, loan_id: int) -> int:
    """Create the planned follow-ups of a loan (DESIGN.md §5) that do not exist yet; returns how many it created.
    Safe to run again or beside the sweep: the unique constraint keeps one row per (loan, kind, sequence)."""
    loans = _loans([loan_id])
    if not loans:
        raise Loan.DoesNotExist(f"Loan {loan_id} does not exist.")
    loan = loans[0]
    rows = _planned_rows(loan, _plan_of(loan, _policies(loans)))
    with transaction.atomic():
        return len(_insert(rows, stamp=timezone.now()))


@dataclass
class RedateResult:
    """What re-dating a loan's plan changed."""

    moved: int = 0
    cancelled: int = 0
    created: int = 0
    reinstated: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _save_change(row: FollowUp, old_statuses, **changes) -> bool:
    """Apply `changes` only if the row is still in one of `old_statuses` (an officer may be completing it right now),
    and write its history row; False when it moved on meanwhile."""
    changes["updated_at"] = timezone.now()
    if not FollowUp.objects.filter(pk=row.pk, status__in=old_statuses).update(**changes):
        return False
    for name, value in changes.items():
        setattr(row, name, value)
    FollowUp.history.bulk_history_create([row], update=True)
    return True


def followups_redate_for_loan(*, loan_id: int) -> RedateResult:
    """Bring a rescheduled loan's planned follow-ups to the plan for its new maturity (and term).

    Open ones (planned or returned) whose date changed move to the new date; a planned one the new plan no longer has
    is cancelled (a returned one holds the record of a contact that happened and stays); one the new plan has that
    is missing is created, or reinstated if it was cancelled. Completed and approved ones stay as they are.
    """
    loans = _loans([loan_id])
    if not loans:
        raise Loan.DoesNotExist(f"Loan {loan_id} does not exist.")
    loan = loans[0]
    wanted = _plan_of(loan, _policies(loans))
    result = RedateResult()
    open_statuses = [FollowUpStatus.PLANNED, FollowUpStatus.RETURNED]
    with transaction.atomic():
        # Locked so that two re-datings of one loan (a retried task) run one after the other.
        existing = list(FollowUp.objects.select_for_update().filter(loan_id=loan_id, kind__in=PLANNED_KINDS))
        for row in existing:
            due_on = wanted.get((row.kind, row.sequence))
            if due_on is None:
                if row.status == FollowUpStatus.PLANNED and _save_change(
                    row, [FollowUpStatus.PLANNED], status=FollowUpStatus.CANCELLED
                ):
                    result.cancelled += 1
            elif row.status in open_statuses and row.planned_on != due_on:
                # An attempt may have moved due_on to a retry day; a new plan date replaces both.
                if _save_change(row, open_statuses, due_on=due_on, planned_on=due_on):
                    result.moved += 1
            elif row.status == FollowUpStatus.CANCELLED and _save_change(
                row, [FollowUpStatus.CANCELLED], status=FollowUpStatus.PLANNED, due_on=due_on, planned_on=due_on
            ):
                result.reinstated += 1
        have = {(row.kind, row.sequence) for row in existing}
        missing = {key: due_on for key, due_on in wanted.items() if key not in have}
        result.created = len(_insert(_planned_rows(loan, missing), stamp=timezone.now()))
    return result


def _overdue_call_due(overdue_since: date, today: date) -> date:
    # The day after the episode starts; when it is learnt of later (a caught-up sweep, the safety net), the day
    # after that: a call is never created already late.
    return max(overdue_since, today) + ONE_DAY


def overdue_call_for_episode(*, loan_id: int, overdue_since: date, today: date | None = None) -> FollowUp | None:
    """The one `overdue_call` of the loan's overdue episode that started on `overdue_since`, due the next day;
    created if missing. None when the loan is no longer overdue in that episode (cured before the task ran)."""
    today = today or local_today()
    loan = Loan.objects.filter(pk=loan_id).values("pk", "status", "overdue_since", "branch_id", "officer_id").first()
    if loan is None:
        raise Loan.DoesNotExist(f"Loan {loan_id} does not exist.")
    if loan["status"] != LoanStatus.OVERDUE or loan["overdue_since"] != overdue_since:
        existing = FollowUp.objects.filter(loan_id=loan_id, kind=FollowUpKind.OVERDUE_CALL, episode_start=overdue_since)
        return existing.first()
    with transaction.atomic():
        _insert_overdue_calls([loan], today=today)
    return FollowUp.objects.get(loan_id=loan_id, kind=FollowUpKind.OVERDUE_CALL, episode_start=overdue_since)


def _insert_overdue_calls(loans: list[dict], *, today: date) -> list[int]:
    """One overdue call for the current episode of each loan (dicts with the loan's columns); the ids it created."""
    earlier = Counter(
        FollowUp.objects.filter(loan_id__in=[loan["pk"] for loan in loans], kind=FollowUpKind.OVERDUE_CALL)
        .values_list("loan_id", "episode_start")
        .order_by()
    )
    rows = []
    for loan in loans:
        since = loan["overdue_since"]
        sequence = 1 + sum(1 for (loan_id, start) in earlier if loan_id == loan["pk"] and start < since)
        due_on = _overdue_call_due(since, today)
        kind = FollowUpKind.OVERDUE_CALL.value
        rows.append((loan["pk"], kind, sequence, since, loan["branch_id"], loan["officer_id"], due_on, due_on))
    return _insert(rows, stamp=timezone.now())


def loans_missing_a_plan(*, today: date):
    """Open loans disbursed by `today` without any planned follow-up: the disbursement task never ran for them.
    (A loan whose plan is empty, e.g. too short for any date, is in it every day and costs one pure call.)"""
    planned = FollowUp.objects.filter(loan=OuterRef("pk"), kind__in=PLANNED_KINDS)
    return Loan.objects.filter(status__in=OPEN_LOAN_STATUSES, disbursed_on__lte=today).exclude(Exists(planned))


def loans_missing_an_overdue_call():
    """Overdue loans whose current episode has no overdue call: the signal or its task was lost."""
    called = FollowUp.objects.filter(
        loan=OuterRef("pk"), kind=FollowUpKind.OVERDUE_CALL, episode_start=OuterRef("overdue_since")
    )
    return Loan.objects.filter(status=LoanStatus.OVERDUE, overdue_since__isnull=False).exclude(Exists(called))


def followups_sweep_missing(*, today: date | None = None, chunk_size: int = SWEEP_CHUNK_SIZE) -> int:
    """The daily safety net: create the planned follow-ups of open loans that have none, and the overdue call of
    each current overdue episode that has none; returns how many follow-ups it created.

    One query finds the loans; they are planned in chunks by primary key, each chunk in its own transaction, so a
    worker killed mid-run keeps the chunks it committed (a loan has all of its plan or none of it) and the next run
    finds only the rest. Running it twice, or beside the disbursement task, creates nothing twice.
    """
    today = today or local_today()
    created = 0
    ids = list(loans_missing_a_plan(today=today).order_by("pk").values_list("pk", flat=True))
    plans: dict = {}
    for start in range(0, len(ids), chunk_size):
        loans = _loans(ids[start : start + chunk_size])
        policies = _policies(loans)
        rows = [row for loan in loans for row in _planned_rows(loan, _plan_of(loan, policies, plans))]
        with transaction.atomic():
            created += len(_insert(rows, stamp=timezone.now()))

    overdue = list(
        loans_missing_an_overdue_call()
        .order_by("pk")
        .values("pk", "status", "overdue_since", "branch_id", "officer_id")
    )
    for start in range(0, len(overdue), chunk_size):
        with transaction.atomic():
            created += len(_insert_overdue_calls(overdue[start : start + chunk_size], today=today))
    if created:
        logger.info("Follow-up safety net created %s follow-ups", created)
    return created
