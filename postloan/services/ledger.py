"""What every money posting on a loan shares: the loan lock, input checks, reference idempotency, and the ledger of
the loan's current installments that plans and applies repayments in memory, then writes what changed."""

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from core.dates import local_today
from core.money import format_yuan

from ..allocation import AllocationPlan, allocate, payable_installments
from ..models import (
    OPEN_LOAN_STATUSES,
    Allocation,
    Installment,
    InstallmentStatus,
    Loan,
    Repayment,
    RepaymentChannel,
    RepaymentKind,
    TransitionError,
)
from ..models.base import ZERO
from .common import clean_text

_LEDGER_FIELDS = ["principal_paid", "interest_paid", "penalty_paid", "interest_waived", "status", "paid_on"]


def _ledger_values(item: Installment) -> tuple:
    return tuple(getattr(item, name) for name in _LEDGER_FIELDS)


def settle(item: Installment, paid_on: date | None) -> None:
    """Set an installment's status (and the day it was paid in full) from its amounts."""
    if item.outstanding == 0:
        if item.status != InstallmentStatus.PAID or item.paid_on is None:
            item.status, item.paid_on = InstallmentStatus.PAID, paid_on or item.paid_on or item.due_date
    else:
        item.status = InstallmentStatus.PARTIAL if item.total_paid > 0 else InstallmentStatus.PENDING
        item.paid_on = None


class Ledger:
    """The current installments of a locked loan: plan and apply repayments in memory, then write what changed."""

    def __init__(self, loan: Loan, *, today: date):
        self.loan = loan
        self.today = today
        self.installments = list(loan.current_installments())
        self._by_key = {item.pk: item for item in self.installments}
        self._before = {item.pk: _ledger_values(item) for item in self.installments}
        self._rows: list[Allocation] = []

    def plan(self, pool: Decimal, *, everything: bool) -> AllocationPlan:
        states = [item.as_state() for item in self.installments]
        if not everything:
            states = payable_installments(states, on_date=self.today)
        return allocate(amount=pool, installments=states)

    def apply(self, plan: AllocationPlan, *, repayment: Repayment, credit_before: Decimal, generation: int) -> Decimal:
        """Add the plan's amounts to the installments and queue its allocation rows; return the new credit."""
        for line in plan.lines:
            item = self._by_key[line.key]
            item.penalty_paid += line.penalty
            item.interest_paid += line.interest
            item.principal_paid += line.principal
            settle(item, repayment.paid_on)
            self._rows.append(
                Allocation(
                    loan=self.loan,
                    repayment=repayment,
                    installment=item,
                    penalty=line.penalty,
                    interest=line.interest,
                    principal=line.principal,
                    generation=generation,
                )
            )
        # One row records what this repayment did to the credit balance: + keeps a leftover, − used earlier credit.
        change = plan.leftover - credit_before
        if change:
            self._rows.append(
                Allocation(
                    loan=self.loan, repayment=repayment, installment=None, to_credit=change, generation=generation
                )
            )
        return plan.leftover

    def reset(self, *, clear_waivers: bool, kept: dict[int, tuple[Decimal, Decimal, Decimal]]) -> None:
        """Start again from what is paid by allocations that stay (`kept`: id → penalty, interest, principal)."""
        for item in self.installments:
            if clear_waivers:
                item.interest_waived = ZERO
            item.penalty_paid, item.interest_paid, item.principal_paid = kept.get(item.pk, (ZERO, ZERO, ZERO))
            settle(item, None)

    def waive(self, waivers: dict[int, Decimal], *, on_date: date) -> None:
        for key, amount in waivers.items():
            item = self._by_key[key]
            item.interest_waived = amount
            settle(item, on_date)

    def write(self, by: User) -> None:
        Allocation.objects.bulk_create(self._rows)
        changed = [item for item in self.installments if _ledger_values(item) != self._before[item.pk]]
        if len(changed) == 1:
            # Most postings pay into one installment. For one row a plain UPDATE takes 0.34 ms where bulk_update's
            # CASE per column takes 1.72 ms (docs/performance.md, session 10).
            (item,) = changed
            Installment.objects.filter(pk=item.pk).update(**{name: getattr(item, name) for name in _LEDGER_FIELDS})
            Installment.history.bulk_history_create(changed, update=True, default_user=by)
        elif changed:
            bulk_update_with_history(changed, Installment, _LEDGER_FIELDS, default_user=by)


# --- checks -------------------------------------------------------------------------------------------------------
def lock_loan(loan: Loan) -> Loan:
    """The loan row, locked until commit: postings, reversals and payoffs of one loan run one after another."""
    return Loan.objects.select_for_update().get(pk=loan.pk)


def hand_back(loan: Loan, locked: Loan) -> None:
    """Give the caller's loan object what the posting saved on its locked copy, without reading the row again."""
    for field in Loan._meta.concrete_fields:
        setattr(loan, field.attname, getattr(locked, field.attname))


def require_open(loan: Loan) -> None:
    if loan.status not in OPEN_LOAN_STATUSES:
        raise TransitionError(
            _("Repayments can be posted only on an active or overdue loan; this one is “%(status)s”.")
            % {"status": loan.get_status_display()}
        )


def clean_date(loan: Loan, value, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError({field: _("Enter a date.")})
    if value < loan.disbursed_on:
        raise ValidationError(
            {
                field: _("The date cannot be before the disbursement (%(date)s).")
                % {"date": date_format(loan.disbursed_on)}
            }
        )
    return value


def clean_paid_on(loan: Loan, value, field: str = "paid_on") -> date:
    paid_on = clean_date(loan, value, field)
    if paid_on > local_today():
        raise ValidationError({field: _("A repayment cannot be dated in the future.")})
    return paid_on


def clean_reference(reference: str) -> str:
    return clean_text(
        reference, "reference", _("Enter the payment's reference (bank or channel transaction number)."), 64
    )


def clean_channel(channel: str) -> str:
    if channel not in RepaymentChannel.values:
        raise ValidationError({"channel": _("Choose how the money was paid.")})
    return channel


def credit_balance(loan: Loan) -> Decimal:
    return Allocation.objects.filter(loan=loan, is_active=True).aggregate(total=Sum("to_credit", default=ZERO))["total"]


def standing_payoff(loan: Loan) -> Repayment | None:
    return Repayment.objects.filter(loan=loan, kind=RepaymentKind.PAYOFF, is_reversed=False).first()


def existing_repayment(reference: str, *, loan: Loan, kind: str, amount: Decimal | None = None) -> Repayment | None:
    """The repayment already posted under this reference, if it is the same payment (`was_posted_before` set, for
    the caller to say so); a clash is a ValidationError."""
    # The other loan's number is read only for a clash (the usual answer is None).
    existing = Repayment.objects.filter(reference=reference).first()
    if existing is None:
        return None
    if existing.loan_id != loan.pk:
        raise ValidationError(
            {
                "reference": _("Reference %(reference)s was already used for loan %(number)s.")
                % {"reference": reference, "number": existing.loan.number}
            }
        )
    if existing.kind != kind or (amount is not None and existing.amount != amount):
        raise ValidationError(
            {
                "reference": _("Reference %(reference)s was already posted for %(amount)s on %(date)s.")
                % {
                    "reference": reference,
                    "amount": format_yuan(existing.amount),
                    "date": date_format(existing.paid_on),
                }
            }
        )
    existing.was_posted_before = True
    return existing


def save_repayment(repayment: Repayment, *, loan: Loan, amount: Decimal | None) -> Repayment | None:
    """Insert in a savepoint; None when a concurrent posting of the same reference won (the caller returns that)."""
    try:
        with transaction.atomic():
            repayment.save()
    except IntegrityError:
        existing = existing_repayment(repayment.reference, loan=loan, kind=repayment.kind, amount=amount)
        if existing is None:
            raise
        return existing
    return None
