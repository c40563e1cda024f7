"""Helpers shared by the post-loan services: access, input cleaning, timeline events and the loan summary."""

from datetime import date
from decimal import Decimal

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


def loan_event(loan: Loan, *, kind: str, by: User | None, note: str = "", **data) -> LoanEvent:
    """Add a timeline row; Decimals and dates in `data` are stored as strings."""
    clean = {key: str(value) if isinstance(value, Decimal | date) else value for key, value in data.items()}
    return LoanEvent.objects.create(loan=loan, kind=kind, actor=by, note=note, data=clean)


def loan_refresh_summary(loan: Loan, *, by: User | None = None, today: date | None = None) -> Loan:
    """Recompute the loan's summary columns from its current installments and active allocations, and save them.

    The one place that sets outstanding principal, the next due date and amount (the oldest installment not fully
    paid, and what is still owed on it), the credit balance and DPD. It closes a loan with nothing left to pay
    (paid_off), reopens a paid-off loan that owes again after a reversal, and makes an overdue loan active again once
    nothing is past due. Making a loan overdue is left to the daily sweep, which also sends `loan_became_overdue`.
    Call it with the loan row locked, after every change to the installments or allocations.
    """
    today = today or local_today()
    installments = list(Installment.objects.filter(loan=loan, version__version=loan.current_version))
    installments.sort(key=lambda item: (item.due_date, item.number))
    unpaid = [item for item in installments if item.outstanding > 0]
    loan.outstanding_principal = sum((item.principal_outstanding for item in installments), ZERO)
    loan.credit_balance = Allocation.objects.filter(loan=loan, is_active=True).aggregate(
        total=Sum("to_credit", default=ZERO)
    )["total"]
    oldest = unpaid[0] if unpaid else None
    loan.next_due_date = oldest.due_date if oldest else None
    loan.next_due_amount = oldest.outstanding if oldest else ZERO

    previous = loan.status
    if oldest is None and previous in OPEN_LOAN_STATUSES:
        loan.status = LoanStatus.PAID_OFF
        last_paid = loan.repayments.filter(is_reversed=False).aggregate(last=Max("paid_on"))["last"]
        loan.paid_off_on = last_paid or today
    elif oldest is not None and previous == LoanStatus.PAID_OFF:
        # A reversal took back money that had closed the loan; the sweep marks it overdue again if it is.
        loan.status, loan.paid_off_on = LoanStatus.ACTIVE, None
    if loan.status == LoanStatus.OVERDUE:
        if oldest.due_date < today:
            loan.dpd = (today - oldest.due_date).days
            loan.bucket = bucket_for_dpd(loan.dpd)
        else:
            loan.status = LoanStatus.ACTIVE
    if loan.status in (LoanStatus.ACTIVE, LoanStatus.PAID_OFF):
        loan.dpd, loan.bucket, loan.overdue_since = 0, Bucket.CURRENT, None

    loan._history_user = by
    loan.save(update_fields=SUMMARY_FIELDS)
    if loan.status != previous:
        kind = {
            LoanStatus.PAID_OFF: LoanEvent.Kind.PAID_OFF,
            LoanStatus.ACTIVE: LoanEvent.Kind.REOPENED if previous == LoanStatus.PAID_OFF else LoanEvent.Kind.CURED,
        }[loan.status]
        loan_event(loan, kind=kind, by=by, from_status=previous, to_status=loan.status)
    return loan
