"""Repayment schedules (还款计划): one pure function, no database, per DESIGN.md §3.

Money is Decimal throughout. Every amount in a schedule is rounded exactly once, by ``core.money.round_money``
(ROUND_HALF_UP to 0.01 yuan); the monthly rate itself is never rounded. Applications use the rows for estimates and
debt-to-income; postloan persists them as installments.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, localcontext

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.dates import add_months
from core.money import round_money, to_decimal

# Enough digits that (1 + r)^n for n up to a few hundred months stays exact to far below a fen.
_PRECISION = 40
_ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)
_TWELVE = Decimal(12)


class ScheduleMethod(models.TextChoices):
    """Repayment methods; usable as ``choices`` on model and form fields (TextChoices touches no database)."""

    EQUAL_INSTALLMENT = "equal_installment", _("Equal installment")  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal", _("Equal principal")  # 等额本金
    INTEREST_FIRST = "interest_first", _("Interest first")  # 先息后本
    BULLET = "bullet", _("Bullet (principal and interest at maturity)")  # 一次性还本付息


@dataclass(frozen=True)
class ScheduleRow:
    """One installment; ``remaining_principal`` is what is still owed after this row's principal is paid."""

    number: int
    due_date: date
    principal: Decimal
    interest: Decimal
    total: Decimal
    remaining_principal: Decimal


def build_schedule(
    *,
    principal: Decimal | int | str,
    annual_rate: Decimal | int | str,
    term_months: int,
    method: str,
    first_due_date: date,
) -> list[ScheduleRow]:
    """Return the repayment schedule of a loan, one row per installment (a single row for ``bullet``).

    ``principal`` is in yuan with at most 2 decimals; ``annual_rate`` is percent per year (``Decimal("4.35")`` is
    4.35 %). Both go through ``to_decimal``, so floats raise TypeError. The monthly rate r = annual_rate / 100 / 12
    keeps full Decimal precision; rounding happens only through ``round_money`` (half up, to the fen), once per
    amount, and the last row takes whatever principal remains so that the principals add up to ``principal`` exactly.

    - equal_installment (等额本息): payment = round_money(P·r·(1+r)^n / ((1+r)^n − 1)), or round_money(P / n) at a
      zero rate; interest = round_money(remaining × r), principal = payment − interest. The last row's total may
      differ from the others by a few fen.
    - equal_principal (等额本金): principal = round_money(P / n); interest = round_money(remaining × r).
    - interest_first (先息后本): interest = round_money(P × r) every month; all principal in the last row.
    - bullet (一次性还本付息): one row at maturity; interest = round_money(P × annual_rate/100 × n/12).

    Row k (1-based) falls due on ``add_months(first_due_date, k − 1, day=first_due_date.day)``: the day of the first
    due date, or the last day of a shorter month (31 Jan → 29 Feb → 31 Mar). A bullet row falls due at maturity, the
    date the n-th monthly row would have. Raises ValueError for a non-positive or sub-fen principal, a negative rate,
    a term under one month or an unknown method.
    """
    amount = to_decimal(principal)
    rate = to_decimal(annual_rate)
    schedule_method = _check_method(method)
    _check_term(term_months)
    _check_first_due_date(first_due_date)
    if amount <= 0:
        raise ValueError(f"Principal must be greater than zero, not {amount}.")
    if amount != round_money(amount):
        raise ValueError(f"Principal must be a whole number of fen (2 decimals at most), not {amount}.")
    if rate < 0:
        raise ValueError(f"Annual rate must be zero or positive, not {rate}.")
    amount = round_money(amount)  # normalise the exponent so every amount shows 2 decimals

    with localcontext() as ctx:
        ctx.prec = _PRECISION
        if schedule_method == ScheduleMethod.BULLET:
            interest = round_money(amount * rate / _HUNDRED * Decimal(term_months) / _TWELVE)
            due = _due_date(first_due_date, term_months)
            return [ScheduleRow(1, due, amount, interest, amount + interest, _ZERO)]
        monthly_rate = rate / _HUNDRED / _TWELVE
        if schedule_method == ScheduleMethod.EQUAL_INSTALLMENT:
            return _equal_installment(amount, monthly_rate, term_months, first_due_date)
        if schedule_method == ScheduleMethod.EQUAL_PRINCIPAL:
            return _equal_principal(amount, monthly_rate, term_months, first_due_date)
        return _interest_first(amount, monthly_rate, term_months, first_due_date)


def schedule_totals(rows: Iterable[ScheduleRow]) -> tuple[Decimal, Decimal, Decimal]:
    """Return (Σ principal, Σ interest, Σ total) of the rows; zeros for no rows."""
    principal = interest = total = _ZERO
    for row in rows:
        principal += row.principal
        interest += row.interest
        total += row.total
    return principal, interest, total


def first_payment(rows: Sequence[ScheduleRow]) -> Decimal:
    """Return the first row's total: the "estimated monthly payment" shown to loan officers."""
    if not rows:
        raise ValueError("A schedule has at least one row.")
    return rows[0].total


def maturity_date(*, first_due_date: date, term_months: int, method: str) -> date:
    """Return the due date of a schedule's last row, without building the schedule."""
    _check_method(method)
    _check_term(term_months)
    _check_first_due_date(first_due_date)
    return _due_date(first_due_date, term_months)


def _equal_installment(amount: Decimal, monthly_rate: Decimal, term: int, first_due: date) -> list[ScheduleRow]:
    if monthly_rate == 0:
        payment = round_money(amount / Decimal(term))
    else:
        growth = (1 + monthly_rate) ** term
        payment = round_money(amount * monthly_rate * growth / (growth - 1))
    rows = []
    remaining = amount
    for number in range(1, term + 1):
        interest = round_money(remaining * monthly_rate)
        # payment > P·r, so payment − interest is never negative; min() only matters for loans of a few fen, where
        # rounding P / n up could otherwise repay more than is owed before the last row.
        principal = remaining if number == term else min(payment - interest, remaining)
        remaining -= principal
        rows.append(_row(number, first_due, principal, interest, remaining))
    return rows


def _equal_principal(amount: Decimal, monthly_rate: Decimal, term: int, first_due: date) -> list[ScheduleRow]:
    share = round_money(amount / Decimal(term))
    rows = []
    remaining = amount
    for number in range(1, term + 1):
        interest = round_money(remaining * monthly_rate)
        principal = remaining if number == term else min(share, remaining)  # min(): see _equal_installment
        remaining -= principal
        rows.append(_row(number, first_due, principal, interest, remaining))
    return rows


def _interest_first(amount: Decimal, monthly_rate: Decimal, term: int, first_due: date) -> list[ScheduleRow]:
    interest = round_money(amount * monthly_rate)
    rows = []
    for number in range(1, term + 1):
        principal = amount if number == term else _ZERO
        rows.append(_row(number, first_due, principal, interest, amount - principal))
    return rows


def _row(number: int, first_due: date, principal: Decimal, interest: Decimal, remaining: Decimal) -> ScheduleRow:
    return ScheduleRow(number, _due_date(first_due, number), principal, interest, principal + interest, remaining)


def _due_date(first_due: date, number: int) -> date:
    return add_months(first_due, number - 1, day=first_due.day)


def _check_method(method: str) -> ScheduleMethod:
    try:
        return ScheduleMethod(method)
    except ValueError:
        known = ", ".join(ScheduleMethod.values)
        raise ValueError(f"Unknown schedule method {method!r}; expected one of: {known}.") from None


def _check_term(term_months: int) -> None:
    if isinstance(term_months, bool) or not isinstance(term_months, int):
        raise TypeError(f"term_months must be an int, not {type(term_months).__name__}.")
    if term_months < 1:
        raise ValueError(f"Term must be at least 1 month, not {term_months}.")


def _check_first_due_date(first_due_date: date) -> None:
    if isinstance(first_due_date, datetime) or not isinstance(first_due_date, date):
        raise TypeError(f"first_due_date must be a date, not {type(first_due_date).__name__}.")
