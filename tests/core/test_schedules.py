from dataclasses import FrozenInstanceError
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from core.schedules import (
    ScheduleMethod,
    ScheduleRow,
    build_schedule,
    first_payment,
    maturity_date,
    schedule_totals,
)

D = Decimal
FEN = D("0.01")

# 100,000.00 at 4.35 % a year over 12 months, equal installment (等额本息): the bank-published 8,530.99 a month.
KNOWN_INTEREST = [
    D("362.50"),
    D("332.89"),
    D("303.17"),
    D("273.35"),
    D("243.41"),
    D("213.37"),
    D("183.22"),
    D("152.96"),
    D("122.59"),
    D("92.11"),
    D("61.52"),
    D("30.81"),
]
KNOWN_PRINCIPAL = [
    D("8168.49"),
    D("8198.10"),
    D("8227.82"),
    D("8257.64"),
    D("8287.58"),
    D("8317.62"),
    D("8347.77"),
    D("8378.03"),
    D("8408.40"),
    D("8438.88"),
    D("8469.47"),
    D("8500.20"),
]
KNOWN_TOTAL_INTEREST = D("2371.90")


def schedule(method=ScheduleMethod.EQUAL_INSTALLMENT, *, principal="100000.00", rate="4.35", term=12, first=None):
    return build_schedule(
        principal=D(principal),
        annual_rate=D(rate),
        term_months=term,
        method=method,
        first_due_date=first or date(2027, 1, 15),
    )


def test_it_builds_the_known_equal_installment_table():
    rows = schedule()

    assert [row.number for row in rows] == list(range(1, 13))
    assert [row.total for row in rows[:11]] == [D("8530.99")] * 11
    assert rows[0].interest == D("362.50")  # 100000 × 0.0435 / 12
    assert rows[0].principal == D("8168.49")  # 8530.99 − 362.50
    assert rows[0].remaining_principal == D("91831.51")
    assert [row.interest for row in rows] == KNOWN_INTEREST
    assert [row.principal for row in rows] == KNOWN_PRINCIPAL
    # The last row takes the whole remaining principal, so its total is two fen more.
    assert rows[-1].principal == D("8500.20") == rows[-2].remaining_principal
    assert rows[-1].total == D("8531.01")
    assert rows[-1].remaining_principal == D("0.00")
    assert schedule_totals(rows) == (D("100000.00"), KNOWN_TOTAL_INTEREST, D("102371.90"))
    assert first_payment(rows) == D("8530.99")


def test_it_matches_a_hand_computation_of_the_known_table():
    """An independent, hand-checkable recomputation of the literals above, so the literals themselves are audited."""
    r = D("4.35") / 100 / 12  # 0.003625 exactly
    assert r == D("0.003625")
    growth = (1 + r) ** 12
    payment = (D(100000) * r * growth / (growth - 1)).quantize(FEN, rounding=ROUND_HALF_UP)
    assert payment == D("8530.99")
    remaining = D("100000.00")
    interest_column, principal_column = [], []
    for number in range(1, 13):
        interest = (remaining * r).quantize(FEN, rounding=ROUND_HALF_UP)
        principal = remaining if number == 12 else payment - interest
        remaining -= principal
        interest_column.append(interest)
        principal_column.append(principal)
    assert interest_column == KNOWN_INTEREST
    assert principal_column == KNOWN_PRINCIPAL
    assert sum(interest_column) == KNOWN_TOTAL_INTEREST


def test_it_builds_equal_principal_with_falling_interest():
    rows = schedule(ScheduleMethod.EQUAL_PRINCIPAL, principal="120000.00", rate="6")

    assert [row.principal for row in rows] == [D("10000.00")] * 12
    # 0.5 % a month on 120,000, 110,000, ..., 10,000.
    assert [row.interest for row in rows] == [D(50 * k).quantize(FEN) for k in range(12, 0, -1)]
    assert rows[0].interest == D("600.00")
    assert rows[1].interest == D("550.00")
    assert rows[-1].interest == D("50.00")
    assert rows[0].total == D("10600.00")
    assert [row.remaining_principal for row in rows] == [D(10000 * k).quantize(FEN) for k in range(11, -1, -1)]
    assert schedule_totals(rows) == (D("120000.00"), D("3900.00"), D("123900.00"))


def test_it_puts_the_equal_principal_residue_in_the_last_row():
    rows = schedule(ScheduleMethod.EQUAL_PRINCIPAL, term=3)

    assert [row.principal for row in rows] == [D("33333.33"), D("33333.33"), D("33333.34")]
    assert [row.remaining_principal for row in rows] == [D("66666.67"), D("33333.34"), D("0.00")]
    assert [row.interest for row in rows] == [D("362.50"), D("241.67"), D("120.83")]


def test_it_charges_only_interest_until_the_last_row_for_interest_first():
    rows = schedule(ScheduleMethod.INTEREST_FIRST, principal="100000", term=6)

    assert [row.interest for row in rows] == [D("362.50")] * 6
    assert [row.principal for row in rows] == [D("0.00")] * 5 + [D("100000.00")]
    assert [row.total for row in rows] == [D("362.50")] * 5 + [D("100362.50")]
    assert [row.remaining_principal for row in rows] == [D("100000.00")] * 5 + [D("0.00")]
    assert rows[-1].due_date == date(2027, 6, 15)


def test_it_builds_a_single_bullet_row_at_maturity():
    rows = schedule(ScheduleMethod.BULLET, principal="100000", term=6)

    assert rows == [ScheduleRow(1, date(2027, 6, 15), D("100000.00"), D("2175.00"), D("102175.00"), D("0.00"))]
    assert first_payment(rows) == D("102175.00")


def test_it_matures_a_twelve_month_bullet_on_the_month_end():
    rows = schedule(ScheduleMethod.BULLET, first=date(2028, 1, 31))

    assert len(rows) == 1
    assert rows[0].due_date == date(2028, 12, 31)
    assert rows[0].interest == D("4350.00")


def test_it_splits_a_zero_rate_equal_installment_and_keeps_the_residue_last():
    rows = schedule(principal="1000.00", rate="0", term=3)

    assert [row.principal for row in rows] == [D("333.33"), D("333.33"), D("333.34")]
    assert [row.interest for row in rows] == [D("0.00")] * 3
    assert [row.total for row in rows] == [D("333.33"), D("333.33"), D("333.34")]


def test_it_clips_due_dates_to_the_month_end_and_returns_to_the_anchor_day():
    rows = schedule(ScheduleMethod.EQUAL_PRINCIPAL, term=4, first=date(2028, 1, 31))

    expected = [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31), date(2028, 4, 30)]
    assert [row.due_date for row in rows] == expected
    assert schedule(term=2, first=date(2027, 1, 31))[1].due_date == date(2027, 2, 28)


@pytest.mark.parametrize("method", ScheduleMethod.values)
def test_it_reports_the_last_due_date_as_maturity(method):
    first = date(2028, 1, 31)
    rows = schedule(method, term=14, first=first)

    assert maturity_date(first_due_date=first, term_months=14, method=method) == rows[-1].due_date == date(2029, 2, 28)


def test_it_accepts_strings_and_ints_for_amounts():
    rows = build_schedule(
        principal="100,000", annual_rate=4, term_months=2, method="interest_first", first_due_date=date(2027, 1, 1)
    )

    assert rows[0].interest == D("333.33")
    assert rows[-1].principal == D("100000.00")


@translation.override("en")
def test_it_labels_methods_for_choices():
    assert ScheduleMethod.choices == [
        ("equal_installment", "Equal installment"),
        ("equal_principal", "Equal principal"),
        ("interest_first", "Interest first"),
        ("bullet", "Bullet (principal and interest at maturity)"),
    ]


def test_it_makes_rows_immutable():
    row = schedule()[0]
    with pytest.raises(FrozenInstanceError):
        row.total = D(0)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"principal": D("0")}, "Principal must be greater than zero"),
        ({"principal": D("-100.00")}, "Principal must be greater than zero"),
        ({"principal": D("100.005")}, "whole number of fen"),
        ({"annual_rate": D("-0.01")}, "Annual rate must be zero or positive"),
        ({"term_months": 0}, "Term must be at least 1 month"),
        ({"term_months": -3}, "Term must be at least 1 month"),
        ({"method": "balloon"}, "Unknown schedule method 'balloon'"),
        ({"method": ""}, "Unknown schedule method"),
    ],
)
def test_it_rejects_invalid_terms(overrides, message):
    arguments = {
        "principal": D("1000.00"),
        "annual_rate": D("4.35"),
        "term_months": 12,
        "method": "equal_installment",
        "first_due_date": date(2027, 1, 15),
    } | overrides
    with pytest.raises(ValueError, match=message):
        build_schedule(**arguments)


def test_it_accepts_a_one_month_bullet():
    rows = schedule(ScheduleMethod.BULLET, principal="1200", rate="12", term=1)

    assert rows == [ScheduleRow(1, date(2027, 1, 15), D("1200.00"), D("12.00"), D("1212.00"), D("0.00"))]


@pytest.mark.parametrize(
    "overrides",
    [
        {"principal": 1000.0},
        {"annual_rate": 4.35},
        {"term_months": 12.0},
        {"term_months": True},
        {"first_due_date": "2027-01-15"},
        {"first_due_date": datetime(2027, 1, 15, 9)},
    ],
)
def test_it_refuses_floats_and_wrong_types(overrides):
    arguments = {
        "principal": D("1000.00"),
        "annual_rate": D("4.35"),
        "term_months": 12,
        "method": "equal_installment",
        "first_due_date": date(2027, 1, 15),
    } | overrides
    with pytest.raises(TypeError):
        build_schedule(**arguments)


def test_it_refuses_to_take_a_first_payment_of_no_rows():
    assert schedule_totals([]) == (D("0.00"), D("0.00"), D("0.00"))
    with pytest.raises(ValueError):
        first_payment([])


def test_it_keeps_tiny_loans_from_overpaying_principal():
    # round_money(0.07 / 10) = 0.01: paying that nine times would repay more than the 0.07 owed.
    for method in (ScheduleMethod.EQUAL_PRINCIPAL, ScheduleMethod.EQUAL_INSTALLMENT):
        rows = schedule(method, principal="0.07", rate="0", term=10)
        assert sum(row.principal for row in rows) == D("0.07")
        assert all(row.principal >= 0 and row.remaining_principal >= 0 for row in rows)


principals = st.integers(min_value=100_000, max_value=10**10).map(lambda fen: D(fen) / 100)
rates = st.integers(min_value=0, max_value=2400).map(lambda basis_points: D(basis_points) / 100)
terms = st.integers(min_value=1, max_value=60)
methods = st.sampled_from(ScheduleMethod.values)
first_due_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


@settings(max_examples=200, deadline=None)
@given(principal=principals, rate=rates, term=terms, method=methods, first=first_due_dates)
def test_it_keeps_schedule_invariants(principal, rate, term, method, first):
    rows = build_schedule(principal=principal, annual_rate=rate, term_months=term, method=method, first_due_date=first)

    assert len(rows) == (1 if method == ScheduleMethod.BULLET else term)
    assert [row.number for row in rows] == list(range(1, len(rows) + 1))
    assert sum(row.principal for row in rows) == principal
    assert schedule_totals(rows)[0] == principal
    for row in rows:
        for amount in (row.principal, row.interest, row.total, row.remaining_principal):
            assert amount >= 0
            assert amount == amount.quantize(FEN)
            assert amount.as_tuple().exponent == -2
        assert row.total == row.principal + row.interest
    assert all(earlier.due_date < later.due_date for earlier, later in pairwise(rows))
    assert rows[-1].remaining_principal == 0
    assert rows[-1].due_date == maturity_date(first_due_date=first, term_months=term, method=method)
    remaining = principal
    for row in rows:
        remaining -= row.principal
        assert row.remaining_principal == remaining
    if method == ScheduleMethod.EQUAL_INSTALLMENT:
        assert len({row.total for row in rows[:-1]}) <= 1
