"""Putting a new schedule version in force: what a restructuring and a principal prepayment share.

Paid installments, their allocations and the old version's rows stay as they are: every reader of the schedule (the
ledger, the loan summary, payoff, the loan page) reads `loan.current_version` only, so moving it to N+1 is what
supersedes the old unpaid rows.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from core.schedules import ScheduleRow

from ..models import Installment, InstallmentStatus, Loan, ScheduleVersion
from ..signals import loan_rescheduled

_VERSION_FIELDS = ["current_version", "maturity_date", "term_months", "updated_at"]


def months_to_maturity(first_due_date: date, maturity: date) -> int:
    """Calendar months from a first due date to maturity, both counted; at least one."""
    between = (maturity.year * 12 + maturity.month) - (first_due_date.year * 12 + first_due_date.month)
    return max(between + 1, 1)


def schedule_version_create(
    *,
    loan: Loan,
    rows: Sequence[ScheduleRow],
    reason: str,
    by: User,
    note: str = "",
    created_at: datetime | None = None,
    also_save: Iterable[str] = (),
) -> ScheduleVersion:
    """Make `rows` schedule version N+1 of a locked loan and put it in force; `loan_rescheduled` goes after commit.

    Sets the loan's current version, maturity (the last row's due date) and term, and saves them with the loan fields
    named in `also_save` (set by the caller beforehand). The caller refreshes the summary and writes the timeline.
    """
    number = (loan.schedule_versions.aggregate(last=Max("version"))["last"] or 0) + 1
    version = ScheduleVersion.objects.create(
        loan=loan, version=number, reason=reason, note=note, created_by=by, created_at=created_at or timezone.now()
    )
    bulk_create_with_history(
        [
            Installment(
                loan=loan,
                version=version,
                number=row.number,
                due_date=row.due_date,
                principal_due=row.principal,
                interest_due=row.interest,
                # A zero-amount row (an interest-only month at a zero rate) is settled from the start.
                status=InstallmentStatus.PAID if row.total == 0 else InstallmentStatus.PENDING,
                paid_on=row.due_date if row.total == 0 else None,
            )
            for row in rows
        ],
        Installment,
        default_user=by,
    )
    loan.current_version = number
    loan.maturity_date = rows[-1].due_date
    # The loan's term stays "months of repayments from the contract's first due date to maturity".
    loan.term_months = months_to_maturity(loan.contract.first_due_date, loan.maturity_date)
    loan._history_user = by
    loan.save(update_fields=[*_VERSION_FIELDS, *also_save])
    loan_id = loan.pk
    # robust: a failing receiver is logged and must not turn a committed change into an error page.
    transaction.on_commit(lambda: loan_rescheduled.send(sender=Loan, loan_id=loan_id, version=number), robust=True)
    return version
