"""The pure allocation rule: oldest installment first, penalty → interest → principal, the rest left over."""

from datetime import date
from decimal import Decimal

import pytest

from postloan.allocation import AllocationLine, InstallmentState, allocate, payable_installments

D = Decimal


def state(key: int, due: date, penalty: str = "0.00", interest: str = "0.00", principal: str = "0.00"):
    return InstallmentState(
        key=key, number=key, due_date=due, penalty=D(penalty), interest=D(interest), principal=D(principal)
    )


FIRST = state(1, date(2026, 2, 10), penalty="45.00", interest="600.00", principal="10000.00")
SECOND = state(2, date(2026, 3, 10), penalty="5.00", interest="550.00", principal="10000.00")


def test_it_pays_the_oldest_installment_first_penalty_then_interest_then_principal():
    plan = allocate(amount=D("10700.00"), installments=[SECOND, FIRST])

    assert plan.lines == (
        AllocationLine(1, 1, date(2026, 2, 10), D("45.00"), D("600.00"), D("10000.00")),
        AllocationLine(2, 2, date(2026, 3, 10), D("5.00"), D("50.00"), D("0.00")),
    )
    assert (plan.penalty, plan.interest, plan.principal) == (D("50.00"), D("650.00"), D("10000.00"))
    assert plan.leftover == D("0.00")
    assert plan.allocated == D("10700.00")


def test_it_stops_inside_an_installment_when_the_money_runs_out():
    plan = allocate(amount=D("300.01"), installments=[FIRST, SECOND])

    assert plan.lines == (AllocationLine(1, 1, date(2026, 2, 10), D("45.00"), D("255.01"), D("0.00")),)
    assert plan.leftover == D("0.00")


def test_it_returns_what_it_cannot_place_as_leftover():
    plan = allocate(amount=D("25000.00"), installments=[FIRST, SECOND])

    assert [line.total for line in plan.lines] == [D("10645.00"), D("10555.00")]
    assert plan.leftover == D("3800.00")


def test_it_breaks_a_tie_on_the_due_date_by_installment_number():
    later_number = state(7, date(2026, 2, 10), interest="1.00")
    earlier_number = state(3, date(2026, 2, 10), interest="1.00")

    plan = allocate(amount=D("1.00"), installments=[later_number, earlier_number])

    assert [line.key for line in plan.lines] == [3]


def test_it_skips_installments_with_nothing_owed():
    paid = state(1, date(2026, 2, 10))

    plan = allocate(amount=D("1.00"), installments=[paid, SECOND])

    assert [line.key for line in plan.lines] == [2]


@pytest.mark.parametrize("amount", [D("1.005"), D("-1.00")])
def test_it_refuses_amounts_that_are_not_whole_non_negative_fen(amount):
    with pytest.raises(ValueError):
        allocate(amount=amount, installments=[FIRST])


def test_it_refuses_floats_and_sub_fen_installments():
    with pytest.raises(TypeError):
        allocate(amount=1.5, installments=[FIRST])
    with pytest.raises(ValueError):
        allocate(amount=D("1.00"), installments=[state(1, date(2026, 2, 10), interest="0.001")])


def test_it_lets_a_regular_payment_reach_past_dues_and_the_current_period_only():
    schedule = [state(n, date(2026, n + 1, 10), principal="1.00") for n in range(1, 6)]

    between_due_dates = payable_installments(schedule, on_date=date(2026, 3, 20))
    on_a_due_date = payable_installments(schedule, on_date=date(2026, 4, 10))
    after_maturity = payable_installments(schedule, on_date=date(2026, 7, 1))

    assert [s.number for s in between_due_dates] == [1, 2, 3]
    assert [s.number for s in on_a_due_date] == [1, 2, 3]
    assert [s.number for s in after_maturity] == [1, 2, 3, 4, 5]
