"""Helpers shared by the post-loan services: access, input cleaning, timeline events and the loan summary."""

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import in_scope
from core.dates import local_today
from core.money import round_money, to_decimal

from ..models import (
    OPEN_LOAN_STATUSES,
    Allocation,
    Bucket,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    LoanStatus,
    bucket_for_dpd,
)
from ..models.base import ZERO

SUMMARY_FIELDS = [
    "status",
    "outstanding_principal",
    "next_due_date",
    "next_due_amount",
    "past_due_amount",
    "dpd",
    "bucket",
    "overdue_since",
    "credit_balance",
    "paid_off_on",
    "allocation_generation",
    "updated_at",
]


def require_in_scope(user: User, obj, message: str) -> None:
    """Staff outside the object's branch may not act on it (views turn the lookup into a 404 before this)."""
    if not in_scope(user, obj):
        raise PermissionDenied(message)


def clean_amount(value, field: str = "amount") -> Decimal:
    """A positive amount of whole fen, or a ValidationError on `field`."""
    try:
        amount = to_decimal(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter an amount in yuan, e.g. 1234.56.")}) from None
    if amount <= 0:
        raise ValidationError({field: _("The amount must be greater than zero.")})
    if round_money(amount) != amount:
        raise ValidationError({field: _("The amount can have at most two decimals (fen).")})
    return round_money(amount)


def clean_text(value: str | None, field: str, message: str, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    if max_length is not None and len(text) > max_length:
        raise ValidationError(
            {field: _("At most %(count)s characters, please.") % {"count": max_length}},
        )
    return text


def build_loan_event(loan: Loan, *, kind: str, by: User | None, note: str = "", **data) -> LoanEvent:
    """A timeline row, not yet saved (the daily sweep writes them in bulk); Decimals and dates become strings."""
    clean = {key: str(value) if isinstance(value, Decimal | date) else value for key, value in data.items()}
    return LoanEvent(loan=loan, kind=kind, actor=by, note=note, data=clean)


def loan_event(loan: Loan, *, kind: str, by: User | None, note: str = "", **data) -> LoanEvent:
    """Add a timeline row; Decimals and dates in `data` are stored as strings."""
    event = build_loan_event(loan, kind=kind, by=by, note=note, **data)
    event.save()
    return event


class PastDue(NamedTuple):
    """What an open loan's status, days past due, aging bucket and overdue date are on a day."""

    status: str
    dpd: int
    bucket: str
    overdue_since: date | None


def past_due_state(
    *, status: str, overdue_since: date | None, oldest_unpaid_due: date | None, today: date, mark_overdue: bool
) -> PastDue:
    """The one rule for an open loan's past-due columns, shared by `loan_refresh_summary` and the daily sweep.

    DPD is today − the due date of the oldest installment not fully paid, when that date has passed. A loan with
    nothing past due is active with DPD 0. Only the sweep (`mark_overdue=True`) turns an active loan overdue: the
    episode starts on the first day past due of its oldest unpaid installment. An overdue loan keeps its date.
    """
    past_due = oldest_unpaid_due is not None and oldest_unpaid_due < today
    if past_due and (status == LoanStatus.OVERDUE or mark_overdue):
        dpd = (today - oldest_unpaid_due).days
        if status != LoanStatus.OVERDUE or overdue_since is None:
            overdue_since = oldest_unpaid_due + timedelta(days=1)
        return PastDue(LoanStatus.OVERDUE, dpd, bucket_for_dpd(dpd), overdue_since)
    return PastDue(LoanStatus.ACTIVE, 0, Bucket.CURRENT, None)


def past_due_amount(installments: Iterable[Installment], today: date) -> Decimal:
    """What fell due before `today` and is still unpaid on the given installments (those of the schedule in force),
    penalty included: the rule of `Loan.past_due_amount`, shared by `loan_refresh_summary` and the daily sweep."""
    return sum(
        (item.outstanding for item in installments if item.due_date < today and item.status != InstallmentStatus.PAID),
        ZERO,
    )


def loan_refresh_summary(
    loan: Loan,
    *,
    by: User | None = None,
    today: date | None = None,
    installments: list[Installment] | None = None,
    credit: Decimal | None = None,
) -> Loan:
    """Recompute the loan's summary columns from its current installments and active allocations, and save them.

    The one place that sets outstanding principal, the next due date and amount (the oldest installment not fully
    paid, and what is still owed on it), what is past due (`past_due_amount`, 0 once closed), the credit balance and
    DPD. It closes a loan with nothing left to pay (paid_off), reopens a paid-off loan that owes again after a
    reversal, and makes an overdue loan active again once nothing is past due. Making a loan overdue is left to the
    daily sweep, which also sends `loan_became_overdue`. Call it with the loan row locked, after every change to the
    installments or allocations.

    A posting that holds the current installments and the new credit balance in memory, as written, passes them
    (`installments`, `credit`) instead of having them read again.
    """
    today = today or local_today()
    if installments is None:
        installments = list(Installment.objects.filter(loan=loan, version__version=loan.current_version))
    installments = sorted(installments, key=lambda item: (item.due_date, item.number))
    unpaid = [item for item in installments if item.outstanding > 0]
    loan.outstanding_principal = sum((item.principal_outstanding for item in installments), ZERO)
    if credit is None:
        credit = Allocation.objects.filter(loan=loan, is_active=True).aggregate(total=Sum("to_credit", default=ZERO))[
            "total"
        ]
    loan.credit_balance = credit
    oldest = unpaid[0] if unpaid else None
    loan.next_due_date = oldest.due_date if oldest else None
    loan.next_due_amount = oldest.outstanding if oldest else ZERO
    loan.past_due_amount = past_due_amount(installments, today)

    previous = loan.status
    if oldest is None and previous in OPEN_LOAN_STATUSES:
        loan.status = LoanStatus.PAID_OFF
        last_paid = loan.repayments.filter(is_reversed=False).aggregate(last=Max("paid_on"))["last"]
        loan.paid_off_on = last_paid or today
    elif oldest is not None and previous == LoanStatus.PAID_OFF:
        # A reversal took back money that had closed the loan; the sweep marks it overdue again if it is.
        loan.status, loan.paid_off_on = LoanStatus.ACTIVE, None
    if loan.status in OPEN_LOAN_STATUSES:
        loan.status, loan.dpd, loan.bucket, loan.overdue_since = past_due_state(
            status=loan.status,
            overdue_since=loan.overdue_since,
            oldest_unpaid_due=oldest.due_date,
            today=today,
            mark_overdue=False,
        )
    elif loan.status == LoanStatus.PAID_OFF:
        loan.dpd, loan.bucket, loan.overdue_since = 0, Bucket.CURRENT, None
    if loan.status not in OPEN_LOAN_STATUSES:
        # Nothing is collected on a closed loan: it drops out of the overdue figures.
        loan.past_due_amount = ZERO

    loan._history_user = by
    loan.save(update_fields=SUMMARY_FIELDS)
    if loan.status != previous:
        kind = {
            LoanStatus.PAID_OFF: LoanEvent.Kind.PAID_OFF,
            LoanStatus.ACTIVE: LoanEvent.Kind.REOPENED if previous == LoanStatus.PAID_OFF else LoanEvent.Kind.CURED,
        }[loan.status]
        loan_event(loan, kind=kind, by=by, from_status=previous, to_status=loan.status)
    return loan
