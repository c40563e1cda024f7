"""Payoff (提前结清): the quote, and the posting that settles the loan.

On a date D the borrower pays: all principal not yet repaid; all unpaid interest of installments due on or before D;
for the current period (the first installment due after D), interest accrued daily at the contract rate, day count
360, on the principal not yet due, from the previous due date (or the disbursement) to D, at most that installment's
scheduled interest, less interest already paid on it (interest paid ahead is not refunded); all penalty the daily
sweep has accrued and is unpaid; minus the credit balance. The scheduled interest the payoff does not charge (the
rest of the current period's, and all of the later installments') is recorded as `interest_waived` on those
installments, and restored if the payoff is reversed.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require
from core.dates import local_today
from core.money import format_yuan, round_money

from ..models import Installment, Loan, LoanEvent, LoanStatus, Repayment, RepaymentKind, TransitionError
from ..models.base import ZERO
from .common import clean_amount, loan_event, loan_refresh_summary, require_in_scope
from .ledger import (
    Ledger,
    clean_channel,
    clean_date,
    clean_paid_on,
    clean_reference,
    credit_balance,
    existing_repayment,
    hand_back,
    lock_loan,
    require_open,
    save_repayment,
    standing_payoff,
)

# Interest accrues per day on a 360-day year; the annual rate is in percent.
_DAY_COUNT_DIVISOR = Decimal(360 * 100)


@dataclass(frozen=True)
class PayoffQuote:
    """What settles the loan on `on_date`; `total` is what the borrower pays (see the module docstring)."""

    on_date: date
    principal: Decimal  # all principal not yet repaid
    overdue_principal: Decimal  # the part of `principal` that fell due before on_date
    interest_due: Decimal  # unpaid interest of the installments due on or before on_date
    overdue_interest: Decimal  # the part of `interest_due` that fell due before on_date
    accrued_interest: Decimal  # the current period's interest to on_date, less what was paid for it
    period_start: date | None  # the current period's first day of interest (None after maturity)
    days: int  # days of interest in the current period
    penalty: Decimal  # penalty accrued by the daily sweep and unpaid
    penalty_accrued_through: date | None
    credit: Decimal  # the loan's credit balance, used first
    total: Decimal
    interest_waived: tuple[tuple[int, Decimal], ...]  # (installment id, interest_waived to record) on payoff

    @property
    def overdue_total(self) -> Decimal:
        return self.overdue_principal + self.overdue_interest + self.penalty


def _quote(loan: Loan, installments: list[Installment], on_date: date, credit: Decimal) -> PayoffQuote:
    """The payoff rule of the module docstring, computed from installments in memory (no database access)."""
    ordered = sorted(installments, key=lambda item: (item.due_date, item.number))
    past = [item for item in ordered if item.due_date <= on_date]
    future = [item for item in ordered if item.due_date > on_date]
    overdue = [item for item in past if item.due_date < on_date]
    accrued, period_start, days, waivers = ZERO, None, 0, {}
    if future:
        current = future[0]
        period_start = past[-1].due_date if past else loan.disbursed_on
        days = (on_date - period_start).days
        base = sum((item.principal_outstanding for item in future), ZERO)
        earned = min(round_money(base * loan.annual_rate * days / _DAY_COUNT_DIVISOR), current.interest_owed)
        accrued = max(earned - current.interest_paid, ZERO)
        waivers[current.pk] = current.interest_due - max(earned, current.interest_paid)
        for later in future[1:]:
            waivers[later.pk] = later.interest_due - later.interest_paid
    principal = sum((item.principal_outstanding for item in ordered), ZERO)
    interest_due = sum((item.interest_outstanding for item in past), ZERO)
    penalty = sum((item.penalty_outstanding for item in ordered), ZERO)
    return PayoffQuote(
        on_date=on_date,
        principal=principal,
        overdue_principal=sum((item.principal_outstanding for item in overdue), ZERO),
        interest_due=interest_due,
        overdue_interest=sum((item.interest_outstanding for item in overdue), ZERO),
        accrued_interest=accrued,
        period_start=period_start,
        days=days,
        penalty=penalty,
        penalty_accrued_through=loan.penalty_accrued_through,
        credit=credit,
        total=principal + interest_due + accrued + penalty - credit,
        interest_waived=tuple(sorted(waivers.items())),
    )


def _require_no_payoff(loan: Loan) -> None:
    payoff = standing_payoff(loan)
    if payoff is not None:
        raise TransitionError(
            _("This loan already has a payoff (%(reference)s); post what is still owed as a regular repayment.")
            % {"reference": payoff.reference}
        )


def payoff_quote(*, loan: Loan, on_date: date) -> PayoffQuote:
    """What settles the loan on `on_date`; nothing is written. A future date adds no penalty to what is accrued."""
    require_open(loan)
    on_date = clean_date(loan, on_date, "on_date")
    _require_no_payoff(loan)
    return _quote(loan, list(loan.current_installments()), on_date, credit_balance(loan))


def payoff_post(
    *,
    loan: Loan,
    on_date: date,
    reference: str,
    channel: str,
    by: User,
    expected_total=None,
) -> Repayment:
    """Settle the loan early: post the quoted total as a payoff repayment and close the loan (paid_off).

    Pass the `expected_total` shown to the user to refuse the payoff if the amount has changed since. Idempotent on
    the reference like `repayment_post`.
    """
    require(by, "repayment.post")
    require_in_scope(by, loan, _("This loan belongs to another branch."))
    reference = clean_reference(reference)
    clean_channel(channel)
    expected = clean_amount(expected_total) if expected_total not in (None, "") else None
    kind = RepaymentKind.PAYOFF
    with transaction.atomic():
        locked = lock_loan(loan)
        # Looked for under the lock: a concurrent payoff of the same reference has committed by then, or not begun.
        existing = existing_repayment(reference, loan=locked, kind=kind)
        if existing is not None:
            return existing
        require_open(locked)
        on_date = clean_paid_on(locked, on_date, "on_date")
        _require_no_payoff(locked)
        latest = Repayment.objects.filter(loan=locked, is_reversed=False).aggregate(latest=Max("paid_on"))["latest"]
        if latest is not None and on_date < latest:
            raise ValidationError(
                {
                    "on_date": _("A payoff cannot be dated before the last repayment (%(date)s).")
                    % {"date": date_format(latest)}
                }
            )
        today = local_today()
        ledger = Ledger(locked, today=today)
        credit = credit_balance(locked)
        quote = _quote(locked, ledger.installments, on_date, credit)
        if quote.total <= 0:
            raise ValidationError(
                _("The credit balance of %(credit)s already covers everything owed; refund the difference instead.")
                % {"credit": format_yuan(credit)}
            )
        if expected is not None and expected != quote.total:
            raise ValidationError(
                {
                    "expected_total": _("The payoff amount is now %(total)s, not %(expected)s; check the quote again.")
                    % {"total": format_yuan(quote.total), "expected": format_yuan(expected)}
                }
            )
        ledger.waive(dict(quote.interest_waived), on_date=on_date)
        repayment = Repayment(
            loan=locked,
            reference=reference,
            amount=quote.total,
            paid_on=on_date,
            channel=channel,
            kind=kind,
            posted_by=by,
        )
        repayment._history_user = by
        winner = save_repayment(repayment, loan=locked, amount=None)
        if winner is not None:
            return winner
        plan = ledger.plan(credit + quote.total, everything=True)
        if plan.leftover:
            raise AssertionError(f"payoff of loan {locked.pk} left {plan.leftover} unallocated")
        credit_after = ledger.apply(
            plan, repayment=repayment, credit_before=credit, generation=locked.allocation_generation
        )
        ledger.write(by)
        loan_event(
            locked,
            kind=LoanEvent.Kind.PAYOFF,
            by=by,
            repayment=repayment.pk,
            reference=reference,
            amount=quote.total,
            paid_on=on_date,
            principal=quote.principal,
            interest=quote.interest_due + quote.accrued_interest,
            penalty=quote.penalty,
            credit_used=credit,
            interest_waived=sum((amount for _key, amount in quote.interest_waived), ZERO),
        )
        loan_refresh_summary(locked, by=by, today=today, installments=ledger.installments, credit=credit_after)
        if locked.status != LoanStatus.PAID_OFF:
            raise AssertionError(f"payoff of loan {locked.pk} left it {locked.status}")
    hand_back(loan, locked)
    return repayment
