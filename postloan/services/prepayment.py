"""Principal prepayment (提前还本) out of a repayment's leftover: the new schedule it puts in force.

What a regular repayment may reach is paid first (`payable_installments`); what is left over then repays principal
of the later installments of the schedule in force, oldest first, and schedule version N+1 is built with
`core.schedules.build_schedule` from the principal still owed, on the same due dates, at the same rate and method:

- `reduce_installment` (减少月供): over the same number of remaining installments, so each is lower;
- `shorten_term` (缩短期限): over fewer of them, so the loan matures earlier. Equal installment: the fewest periods
  whose payment is not above the current one. Equal principal: as many periods as the current per-period principal
  needs to repay what is owed (the last ones are dropped; the share is then spread evenly, so it is never above the
  current one).

Refused, with a message on the `overpayment` field: a bullet loan (its one installment carries interest for the whole
term; a payoff settles it early), shortening an interest-first loan (its principal falls due at maturity anyway, so a
shorter term would only move that date; lowering the installments lowers its interest), interest-only months of a
restructuring still ahead (rebuilding would drop them), and a leftover that would repay every bit of principal left
(that is a payoff, with its own quote).

The plan is pure (no database): the posting and its preview compute the same one.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.money import format_yuan
from core.schedules import ScheduleMethod, ScheduleRow, build_schedule

from ..allocation import AllocationLine, InstallmentState, allocate, payable_installments
from ..models.base import ZERO

OVERPAYMENT_REDUCE_INSTALLMENT = "reduce_installment"  # prepay principal, keep the term: lower installments
OVERPAYMENT_SHORTEN_TERM = "shorten_term"  # prepay principal, keep the installment: earlier maturity
PREPAYMENT_OPTIONS = (OVERPAYMENT_REDUCE_INSTALLMENT, OVERPAYMENT_SHORTEN_TERM)


@dataclass(frozen=True)
class PrepaymentPlan:
    """What prepaying `principal` does to the schedule in force: the old remaining rows beside the new ones."""

    option: str
    principal: Decimal
    lines: tuple[AllocationLine, ...]  # the prepaid principal, on the later installments of the current version
    outstanding_before: Decimal
    old_payment: Decimal
    old_maturity: date
    old_count: int
    new_rows: tuple[ScheduleRow, ...]

    @property
    def outstanding_after(self) -> Decimal:
        return self.outstanding_before - self.principal

    @property
    def new_payment(self) -> Decimal:
        return self.new_rows[0].total

    @property
    def new_maturity(self) -> date:
        return self.new_rows[-1].due_date

    @property
    def new_count(self) -> int:
        return len(self.new_rows)

    @property
    def periods_saved(self) -> int:
        return self.old_count - self.new_count


def _refuse(message: str) -> ValidationError:
    return ValidationError({"overpayment": message})


def _build(principal: Decimal, rate: Decimal, method: str, dates: Sequence[date]) -> list[ScheduleRow]:
    """`method` over len(dates) periods, each row falling due on the matching date of the current schedule."""
    rows = build_schedule(
        principal=principal, annual_rate=rate, term_months=len(dates), method=method, first_due_date=dates[0]
    )
    # Dated from the current rows, not rebuilt from the first one: a clipped date (28 Feb) would move the rest.
    dated = zip(rows, dates, strict=True)
    return [replace(row, number=number, due_date=due) for number, (row, due) in enumerate(dated, start=1)]


def prepayment_plan(
    *,
    option: str,
    method: str,
    annual_rate: Decimal,
    installments: Sequence[InstallmentState],
    today: date,
    leftover: Decimal,
) -> PrepaymentPlan:
    """The prepayment of `leftover` (what a payment leaves after everything payable on `today` is paid) over the
    current version's `installments` (all of them, paid ones included); a ValidationError when it is refused."""
    if option not in PREPAYMENT_OPTIONS:
        raise ValueError(f"option must be one of {PREPAYMENT_OPTIONS!r}, not {option!r}")
    if method == ScheduleMethod.BULLET:
        raise _refuse(
            _(
                "A bullet loan repays everything in one installment at maturity; post a payoff to settle it early, "
                "or keep the rest as credit."
            )
        )
    if option == OVERPAYMENT_SHORTEN_TERM and method == ScheduleMethod.INTEREST_FIRST:
        raise _refuse(
            _(
                "An interest-first loan repays its principal at maturity, so prepaying cannot shorten it; choose "
                "lower installments instead (the monthly interest goes down)."
            )
        )
    payable = {state.key for state in payable_installments(installments, on_date=today)}
    later = sorted(
        (state for state in installments if state.key not in payable and state.total > 0),
        key=lambda state: (state.due_date, state.number),
    )
    owed = sum((state.principal for state in later), ZERO)
    if not later or owed <= 0:
        raise _refuse(_("No later installment is left to prepay: keep the rest as credit or refuse it."))
    if leftover >= owed:
        raise _refuse(
            _("The extra %(extra)s would repay all the principal left (%(principal)s): post a payoff instead.")
            % {"extra": format_yuan(leftover), "principal": format_yuan(owed)}
        )
    if method != ScheduleMethod.INTEREST_FIRST and any(state.principal == 0 for state in later[:-1]):
        raise _refuse(
            _(
                "Interest-only months of the restructured schedule are still ahead; principal can be prepaid once "
                "they are over."
            )
        )
    lines = allocate(
        amount=leftover,
        installments=[replace(state, penalty=ZERO, interest=ZERO) for state in later],
    ).lines
    principal = owed - leftover
    dates = [state.due_date for state in later]
    old_payment = later[0].total
    if option == OVERPAYMENT_REDUCE_INSTALLMENT:
        rows = _build(principal, annual_rate, method, dates)
    elif method == ScheduleMethod.EQUAL_PRINCIPAL:
        share = later[0].principal
        rows = _build(principal, annual_rate, method, dates[: min(len(dates), math.ceil(principal / share))])
    else:
        # The payment falls as the term grows: the first term that fits is the shortest one.
        for count in range(1, len(dates) + 1):
            rows = _build(principal, annual_rate, method, dates[:count])
            if rows[0].total <= old_payment:
                break
    return PrepaymentPlan(
        option=option,
        principal=leftover,
        lines=lines,
        outstanding_before=owed,
        old_payment=old_payment,
        old_maturity=dates[-1],
        old_count=len(later),
        new_rows=tuple(rows),
    )
