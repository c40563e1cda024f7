"""The follow-up plan (DESIGN.md §5), worked by hand, and its properties over any dates and policy.

Worked with D = 10 Jan 2026 unless told: D+30 = 9 Feb, D+90 = 10 Apr (21 + 28 + 31 + 10 days); M−30 counted back
from each maturity.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.dates import add_months
from followups.models import FollowUpKind, FollowUpPolicy
from followups.policy import DEFAULT_POLICY, PlanPolicy, plan

D = date(2026, 1, 10)
FIRST, SECOND, QUARTERLY, PRE = "first", "second", "quarterly", "pre_maturity"


def test_a_12_month_loan_gets_first_second_and_pre_maturity():
    assert plan(disbursed_on=D, maturity_on=date(2027, 1, 10)) == [
        (FIRST, date(2026, 2, 9)),
        (SECOND, date(2026, 4, 10)),
        (PRE, date(2026, 12, 11)),
    ]


def test_a_3_month_loan_drops_the_second_that_falls_on_maturity():
    # D+90 = 10 Apr is the maturity itself: not strictly before M.
    assert plan(disbursed_on=D, maturity_on=date(2026, 4, 10)) == [(FIRST, date(2026, 2, 9)), (PRE, date(2026, 3, 11))]


def test_a_1_month_loan_keeps_two_dates_29_days_apart():
    # M−30 = 11 Jan, the day after disbursement; D+30 = 9 Feb, the day before maturity.
    assert plan(disbursed_on=D, maturity_on=date(2026, 2, 10)) == [(PRE, date(2026, 1, 11)), (FIRST, date(2026, 2, 9))]


def test_a_2_month_loan_keeps_pre_maturity_over_a_first_one_day_apart():
    assert plan(disbursed_on=D, maturity_on=date(2026, 3, 10)) == [(PRE, date(2026, 2, 8))]


def test_a_36_month_loan_adds_quarterly_follow_ups_three_months_apart_from_the_second():
    quarterlies = [add_months(date(2026, 4, 10), 3 * k) for k in range(1, 11)]
    assert quarterlies[0] == date(2026, 7, 10)
    assert quarterlies[-1] == date(2028, 10, 10)  # 62 days before pre-maturity; 10 Jan 2029 is after it

    assert plan(disbursed_on=D, maturity_on=date(2029, 1, 10)) == [
        (FIRST, date(2026, 2, 9)),
        (SECOND, date(2026, 4, 10)),
        *[(QUARTERLY, day) for day in quarterlies],
        (PRE, date(2028, 12, 11)),
    ]


def test_a_month_end_disbursement_counts_days_then_quarters_from_the_second():
    # 31 Jan + 30 days = 2 Mar (28-day February); + 90 days = 1 May; quarters from 1 May; M−30 = 1 Jan 2028.
    assert plan(disbursed_on=date(2026, 1, 31), maturity_on=date(2028, 1, 31)) == [
        (FIRST, date(2026, 3, 2)),
        (SECOND, date(2026, 5, 1)),
        (QUARTERLY, date(2026, 8, 1)),
        (QUARTERLY, date(2026, 11, 1)),
        (QUARTERLY, date(2027, 2, 1)),
        (QUARTERLY, date(2027, 5, 1)),
        (QUARTERLY, date(2027, 8, 1)),
        (QUARTERLY, date(2027, 11, 1)),
        (PRE, date(2028, 1, 1)),
    ]


def test_quarters_keep_the_seconds_day_after_a_short_month():
    # 30 Nov + 90 days = 28 Feb: every quarter falls on the 28th, not on the 30th and not drifting.
    planned = plan(disbursed_on=date(2025, 11, 30), maturity_on=date(2027, 5, 30))
    assert [day for kind, day in planned if kind == QUARTERLY] == [
        date(2026, 5, 28),
        date(2026, 8, 28),
        date(2026, 11, 28),
        date(2027, 2, 28),
    ]


@pytest.mark.parametrize(
    ("maturity", "expected"),
    [
        # 4 months: M−30 = 10 Apr, the second's own day; pre-maturity wins.
        (date(2026, 5, 10), [(FIRST, date(2026, 2, 9)), (PRE, date(2026, 4, 10))]),
        # M−30 = 18 Apr, 8 days after the second.
        (date(2026, 5, 18), [(FIRST, date(2026, 2, 9)), (PRE, date(2026, 4, 18))]),
        # 14 days apart still collide; 15 days apart do not.
        (date(2026, 5, 24), [(FIRST, date(2026, 2, 9)), (PRE, date(2026, 4, 24))]),
        (date(2026, 5, 25), [(FIRST, date(2026, 2, 9)), (SECOND, date(2026, 4, 10)), (PRE, date(2026, 4, 25))]),
    ],
    ids=["same-day", "8-days", "14-days", "15-days"],
)
def test_a_second_within_15_days_of_pre_maturity_gives_way(maturity, expected):
    assert plan(disbursed_on=D, maturity_on=maturity) == expected


def test_a_quarterly_within_15_days_of_pre_maturity_gives_way():
    planned = plan(disbursed_on=D, maturity_on=date(2027, 11, 15))  # M−30 = 16 Oct 2027
    assert planned[-2:] == [(QUARTERLY, date(2027, 7, 10)), (PRE, date(2027, 10, 16))]
    assert (QUARTERLY, date(2027, 10, 10)) not in planned


def test_the_contract_term_decides_quarterly_follow_ups_when_given():
    # Disbursed 8 Jan, first due 10 Feb: a 12-month loan that runs 12 months and 2 days.
    maturity = date(2027, 1, 10)
    by_contract = plan(disbursed_on=date(2026, 1, 8), maturity_on=maturity, term_months=12)
    by_calendar = plan(disbursed_on=date(2026, 1, 8), maturity_on=maturity)

    assert [kind for kind, _day in by_contract] == [FIRST, SECOND, PRE]
    assert [day for kind, day in by_calendar if kind == QUARTERLY] == [date(2026, 7, 8), date(2026, 10, 8)]
    assert plan(disbursed_on=D, maturity_on=date(2027, 2, 10), term_months=13)[2] == (QUARTERLY, date(2026, 7, 10))


def test_a_products_policy_overrides_days_window_and_quarterly():
    policy = PlanPolicy(first_after_days=15, second_after_days=60, pre_maturity_days=10, quarterly=False)
    assert plan(disbursed_on=D, maturity_on=date(2029, 1, 10), policy=policy) == [
        (FIRST, date(2026, 1, 25)),
        (SECOND, date(2026, 3, 11)),
        (PRE, date(2028, 12, 31)),
    ]
    # A 61-day window: the second (60 days after the first) gives way to the first.
    wide = PlanPolicy(collision_days=61)
    assert plan(disbursed_on=D, maturity_on=date(2027, 1, 10), policy=wide) == [
        (FIRST, date(2026, 2, 9)),
        (PRE, date(2026, 12, 11)),
    ]


def test_a_policy_row_stands_in_for_the_default():
    row = FollowUpPolicy(first_after_days=20, second_after_days=90, pre_maturity_days=45, quarterly=True)
    assert plan(disbursed_on=D, maturity_on=date(2027, 1, 10), policy=row) == [
        (FIRST, date(2026, 1, 30)),
        (SECOND, date(2026, 4, 10)),
        (PRE, date(2026, 11, 26)),
    ]
    assert plan(disbursed_on=D, maturity_on=date(2027, 1, 10), policy=None) == plan(
        disbursed_on=D, maturity_on=date(2027, 1, 10), policy=DEFAULT_POLICY
    )


def test_no_dates_for_a_maturity_not_after_disbursement():
    assert plan(disbursed_on=D, maturity_on=D) == []
    assert plan(disbursed_on=D, maturity_on=D - timedelta(days=5)) == []


# --- properties ---------------------------------------------------------------------------------------------------
policies = st.builds(
    PlanPolicy,
    first_after_days=st.integers(1, 400),
    second_after_days=st.integers(1, 400),
    pre_maturity_days=st.integers(1, 400),
    quarterly=st.booleans(),
    collision_days=st.integers(0, 60),
)


@settings(max_examples=400, deadline=None)
@given(
    disbursed_on=st.dates(date(2020, 1, 1), date(2035, 12, 31)),
    days=st.integers(1, 4000),
    policy=st.one_of(st.none(), policies),
    term_months=st.one_of(st.none(), st.integers(1, 120)),
)
def test_its_properties_hold_for_any_loan_and_policy(disbursed_on, days, policy, term_months):
    maturity_on = disbursed_on + timedelta(days=days)
    planned = plan(disbursed_on=disbursed_on, maturity_on=maturity_on, policy=policy, term_months=term_months)
    window = (policy or DEFAULT_POLICY).collision_days

    dates = [day for _kind, day in planned]
    assert all(disbursed_on < day < maturity_on for day in dates)
    assert dates == sorted(dates)
    assert all(abs((a - b).days) >= window for i, a in enumerate(dates) for b in dates[i + 1 :])
    assert {kind for kind, _day in planned} <= {FIRST, SECOND, QUARTERLY, PRE}
    kinds = [kind for kind, _day in planned]
    assert all(kinds.count(kind) <= 1 for kind in (FIRST, SECOND, PRE))
    assert planned == plan(disbursed_on=disbursed_on, maturity_on=maturity_on, policy=policy, term_months=term_months)
    # Pre-maturity matters most: whenever its date is inside (D, M) it is kept.
    pre = maturity_on - timedelta(days=(policy or DEFAULT_POLICY).pre_maturity_days)
    assert ((PRE, pre) in planned) == (disbursed_on < pre < maturity_on)
    assert all(kind.value in FollowUpKind.values for kind in map(FollowUpKind, kinds))
