"""Repayment allocation (还款冲抵): pure functions, no database (DESIGN.md §3).

A payment pays the oldest installment first (by due date, then number) and, within an installment, penalty, then
interest, then principal. Every input is a Decimal of whole fen, so nothing is rounded here: each amount out is a
difference of amounts in. What the payment cannot place is the leftover (an overpayment).

The same plan serves the preview shown before posting and the posting itself, so the two never disagree.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.money import MONEY_QUANTUM

ZERO = Decimal("0.00")
# Within an installment, what a payment settles first.
_ORDER = ("penalty", "interest", "principal")


@dataclass(frozen=True)
class InstallmentState:
    """What is still owed on one installment; `key` identifies it to the caller (the Installment's id)."""

    key: int
    number: int
    due_date: date
    penalty: Decimal
    interest: Decimal
    principal: Decimal

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class AllocationLine:
    """The part of a payment that goes to one installment."""

    key: int
    number: int
    due_date: date
    penalty: Decimal
    interest: Decimal
    principal: Decimal

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal


@dataclass(frozen=True)
class AllocationPlan:
    """Where an amount goes: one line per installment it reaches, oldest first, and what is left over."""

    amount: Decimal
    lines: tuple[AllocationLine, ...]
    leftover: Decimal

    @property
    def penalty(self) -> Decimal:
        return sum((line.penalty for line in self.lines), ZERO)

    @property
    def interest(self) -> Decimal:
        return sum((line.interest for line in self.lines), ZERO)

    @property
    def principal(self) -> Decimal:
        return sum((line.principal for line in self.lines), ZERO)

    @property
    def allocated(self) -> Decimal:
        return self.amount - self.leftover


def _fen(value: Decimal, name: str) -> Decimal:
    """Check that a value is a non-negative Decimal of whole fen, and give it two decimals."""
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}.")
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite amount of zero or more, not {value}.")
    quantized = value.quantize(MONEY_QUANTUM)
    if quantized != value:
        raise ValueError(f"{name} must be a whole number of fen (2 decimals at most), not {value}.")
    return quantized


def allocate(*, amount: Decimal, installments: Iterable[InstallmentState]) -> AllocationPlan:
    """Allocate `amount` over the installments, oldest first; penalty → interest → principal within each.

    Installments with nothing owed are skipped. Raises TypeError for a non-Decimal and ValueError for a negative
    amount or one with more than 2 decimals.
    """
    total = _fen(amount, "amount")
    owed = [
        (state, [_fen(getattr(state, part), f"installment {state.number} {part}") for part in _ORDER])
        for state in installments
    ]
    remaining = total
    lines = []
    for state, parts in sorted(owed, key=lambda item: (item[0].due_date, item[0].number)):
        if not remaining:
            break
        paid = []
        for part in parts:
            taken = min(remaining, part)
            remaining -= taken
            paid.append(taken)
        if any(paid):
            lines.append(AllocationLine(state.key, state.number, state.due_date, *paid))
    return AllocationPlan(amount=total, lines=tuple(lines), leftover=remaining)


def payable_installments(installments: Sequence[InstallmentState], *, on_date: date) -> list[InstallmentState]:
    """The installments a regular payment may reach on `on_date`: all due before it, and the current period's.

    The current period's installment is the first one due on or after `on_date` (paid or not): a borrower may pay it
    early, but not the ones after it; more than that is an overpayment (kept as credit, or paid off early through a
    payoff). Once the last due date has passed, every installment is payable. Pass every installment, paid ones
    included, so that the current period is found whatever has been paid.
    """
    boundary = min((s.due_date for s in installments if s.due_date >= on_date), default=None)
    return [s for s in installments if boundary is None or s.due_date <= boundary]
