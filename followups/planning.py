"""Planned follow-ups of loans: created at disbursement, re-dated when the loan is rescheduled, one overdue call per
overdue episode, and a daily safety net that creates whatever a lost task did not.

Every writer here may run twice or at the same time as another (the disbursement task, its retry, the daily sweep):
rows are inserted with `bulk_create(ignore_conflicts=True)` against the unique constraints of FollowUp, one per
(loan, kind, sequence) for the plan's kinds and one per (loan, episode_start) for overdue calls, so whoever comes
second inserts nothing. Each insert stamps its rows with one `created_at`; reading back the rows carrying that stamp
tells exactly which rows this call inserted (for its count and their history rows).
"""

import logging
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from core.dates import local_today
from postloan.models import OPEN_LOAN_STATUSES, Loan, LoanStatus

from .models import FollowUp, FollowUpKind, FollowUpPolicy, FollowUpStatus
from .models.followups import PLANNED_KINDS
from .policy import plan

logger = logging.getLogger(__name__)

SWEEP_CHUNK_SIZE = 500
ONE_DAY = timedelta(days=1)
_LOAN_FIELDS = ("pk", "branch_id", "officer_id", "disbursed_on", "maturity_date", "term_months")


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
    return list(
        Loan.objects.filter(pk__in=loan_ids)
        .order_by("pk")
        .values(*_LOAN_FIELDS, product_id=F("contract__application__product_id"))
    )


def _policies(loans: list[dict]) -> dict[int, FollowUpPolicy]:
    products = {loan["product_id"] for loan in loans}
    return {policy.product_id: policy for policy in FollowUpPolicy.objects.filter(product_id__in=products)}


def _plan_of(loan: dict, policies: dict[int, FollowUpPolicy]) -> dict:
    return numbered_plan(
        disbursed_on=loan["disbursed_on"],
        maturity_on=loan["maturity_date"],
        term_months=loan["term_months"],
        policy=policies.get(loan["product_id"]),
    )


def _planned_rows(loan: dict, wanted: dict, stamp: datetime) -> list[FollowUp]:
    return [
        FollowUp(
            loan_id=loan["pk"],
            kind=kind,
            sequence=sequence,
            branch_id=loan["branch_id"],
            officer_id=loan["officer_id"],
            due_on=due_on,
            planned_on=due_on,
            created_at=stamp,
        )
        for (kind, sequence), due_on in wanted.items()
    ]


def _insert(rows: list[FollowUp], *, loan_ids, kinds, stamp: datetime) -> list[FollowUp]:
    """Insert what does not exist yet and write the history of what this call inserted; returns those rows."""
    if not rows:
        return []
    FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    inserted = list(FollowUp.objects.filter(loan_id__in=loan_ids, kind__in=kinds, created_at=stamp))
    if inserted:
        FollowUp.history.bulk_history_create(inserted, default_date=stamp)
    return inserted


def followups_plan_for_loan(*, loan_id: int) -> int:
    """Create the planned follow-ups of a loan (DESIGN.md §5) that do not exist yet; returns how many it created.
    Safe to run again or beside the sweep: the unique constraint keeps one row per (loan, kind, sequence)."""
    loans = _loans([loan_id])
    if not loans:
        raise Loan.DoesNotExist(f"Loan {loan_id} does not exist.")
    loan = loans[0]
    stamp = timezone.now()
    rows = _planned_rows(loan, _plan_of(loan, _policies(loans)), stamp)
    with transaction.atomic():
        return len(_insert(rows, loan_ids=[loan_id], kinds=PLANNED_KINDS, stamp=stamp))


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
        stamp = timezone.now()
        missing = {key: due_on for key, due_on in wanted.items() if key not in have}
        rows = _planned_rows(loan, missing, stamp)
        result.created = len(_insert(rows, loan_ids=[loan_id], kinds=PLANNED_KINDS, stamp=stamp))
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
        created = _insert_overdue_calls([loan], today=today)
    return (
        created[0]
        if created
        else FollowUp.objects.get(loan_id=loan_id, kind=FollowUpKind.OVERDUE_CALL, episode_start=overdue_since)
    )


def _insert_overdue_calls(loans: list[dict], *, today: date) -> list[FollowUp]:
    """One overdue call for the current episode of each loan (dicts with the loan's columns); the calls it created."""
    earlier = Counter(
        FollowUp.objects.filter(loan_id__in=[loan["pk"] for loan in loans], kind=FollowUpKind.OVERDUE_CALL)
        .values_list("loan_id", "episode_start")
        .order_by()
    )
    stamp = timezone.now()
    rows = []
    for loan in loans:
        since = loan["overdue_since"]
        sequence = 1 + sum(1 for (loan_id, start) in earlier if loan_id == loan["pk"] and start < since)
        due_on = _overdue_call_due(since, today)
        rows.append(
            FollowUp(
                loan_id=loan["pk"],
                kind=FollowUpKind.OVERDUE_CALL,
                sequence=sequence,
                episode_start=since,
                branch_id=loan["branch_id"],
                officer_id=loan["officer_id"],
                due_on=due_on,
                planned_on=due_on,
                created_at=stamp,
            )
        )
    return _insert(rows, loan_ids=[loan["pk"] for loan in loans], kinds=[FollowUpKind.OVERDUE_CALL], stamp=stamp)


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
    for start in range(0, len(ids), chunk_size):
        chunk = ids[start : start + chunk_size]
        loans = _loans(chunk)
        policies = _policies(loans)
        stamp = timezone.now()
        rows = [row for loan in loans for row in _planned_rows(loan, _plan_of(loan, policies), stamp)]
        with transaction.atomic():
            created += len(_insert(rows, loan_ids=chunk, kinds=PLANNED_KINDS, stamp=stamp))

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
