"""Credit scorecard: every factor's bands, the grades, the credit-flag floor and the hard stops an officer sees."""

from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import translation

from applications.scoring import CREDIT_FLAGS, Factor, ScoringInput, grade_for, score

# A clean application: 28 + 25 + 25 + 10 + 0 = 88 points, no hard stop.
CLEAN = ScoringInput(
    borrower_kind="individual",
    age=35,
    income_stability="stable",
    years_at_job=3,
    dti=Decimal("25.00"),
    credit_flags=frozenset(),
    collateral_value=Decimal("100000.00"),
    amount=Decimal("100000.00"),
    has_guarantor=False,
    product_min_age=22,
    product_max_age=65,
    age_at_maturity=36,
    product_max_dti=Decimal("50.00"),
    blocklisted=False,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _factor(card, code: str) -> Factor:
    (factor,) = [f for f in card.factors if f.code == code]
    return factor


def test_it_scores_a_complete_application_factor_by_factor():
    inp = replace(
        CLEAN,
        years_at_job=3,
        dti=Decimal("42.50"),
        credit_flags=frozenset({"many_inquiries"}),
        collateral_value=Decimal("120000.00"),
        has_guarantor=True,
    )

    card = score(inp)

    assert card.factors == (
        Factor(
            code="income_stability",
            label="Income stability",
            points=28,
            max_points=30,
            reason="Income is stable (25 points). 3 years at the current job (+3).",
        ),
        Factor(
            code="dti",
            label="Debt-to-income",
            points=12,
            max_points=25,
            reason="Debt-to-income of 42.50% is at most 50.00%.",
        ),
        Factor(
            code="credit_report",
            label="Credit report",
            points=20,
            max_points=25,
            reason="Deductions from 25 points: More than 6 credit inquiries in the last 3 months (−5).",
        ),
        Factor(
            code="collateral",
            label="Collateral coverage",
            points=10,
            max_points=15,
            reason="Collateral of ¥120,000.00 covers 1.20× the amount of ¥100,000.00.",
        ),
        Factor(
            code="guarantor",
            label="Guarantor",
            points=5,
            max_points=5,
            reason="A guarantor backs the loan.",
        ),
    )
    assert card.total == 75
    assert card.max_total == 100
    assert card.grade == "B"
    assert card.hard_stops == ()


def test_it_gives_the_best_application_full_marks_and_grade_a():
    best = replace(CLEAN, years_at_job=5, collateral_value=Decimal("150000.00"), has_guarantor=True)

    card = score(best)

    assert [f.points for f in card.factors] == [f.max_points for f in card.factors] == [30, 25, 25, 15, 5]
    assert (card.total, card.grade) == (100, "A")


@pytest.mark.parametrize(
    ("stability", "years", "points"),
    [
        ("stable", 0, 25),
        ("stable", 1, 25),
        ("stable", 2, 28),
        ("stable", 4, 28),
        ("stable", 5, 30),
        ("stable", 20, 30),
        ("variable", 1, 15),
        ("variable", 2, 18),
        ("variable", 5, 20),
        ("unstable", 1, 5),
        ("unstable", 2, 8),
        ("unstable", 5, 10),
    ],
)
def test_it_scores_income_stability_and_years_at_the_job(stability, years, points):
    factor = _factor(score(replace(CLEAN, income_stability=stability, years_at_job=years)), "income_stability")

    assert factor.points == points
    assert factor.max_points == 30


def test_it_explains_the_income_points_in_words():
    def reason(stability, years):
        return _factor(score(replace(CLEAN, income_stability=stability, years_at_job=years)), "income_stability").reason

    assert reason("variable", 1) == "Income is variable (15 points). 1 year at the current job (+0)."
    assert reason("unstable", 6) == "Income is unstable (5 points). 6 years at the current job (+5)."


def test_it_refuses_an_unknown_income_stability():
    with pytest.raises(ValueError, match="income stability"):
        score(replace(CLEAN, income_stability="great"))


@pytest.mark.parametrize(
    ("dti", "points"),
    [
        ("0", 25),
        ("30.00", 25),
        ("30.01", 20),
        ("40.00", 20),
        ("40.01", 12),
        ("50.00", 12),
        ("50.01", 5),
        ("60.00", 5),
        ("60.01", 0),
        ("150.00", 0),
    ],
)
def test_it_scores_debt_to_income_in_bands(dti, points):
    card = score(replace(CLEAN, dti=Decimal(dti), product_max_dti=None))

    assert _factor(card, "dti").points == points


def test_it_explains_a_debt_to_income_above_every_band():
    factor = _factor(score(replace(CLEAN, dti=Decimal("62.15"), product_max_dti=None)), "dti")

    assert factor.reason == "Debt-to-income of 62.15% is above 60.00%."


def test_it_gives_no_points_for_an_unknown_debt_to_income():
    factor = _factor(score(replace(CLEAN, dti=None, product_max_dti=None)), "dti")

    assert (factor.points, factor.reason) == (0, "Debt-to-income is unknown.")


@pytest.mark.parametrize(
    ("flag", "points"),
    [
        ("current_overdue", 0),
        ("overdue_90_in_24m", 5),
        ("overdue_30_in_12m", 15),
        ("many_inquiries", 20),
        ("litigation", 10),
        ("no_credit_history", 20),
    ],
)
def test_it_deducts_each_credit_flag(flag, points):
    assert _factor(score(replace(CLEAN, credit_flags=frozenset({flag}))), "credit_report").points == points


def test_it_gives_a_clean_credit_report_full_points():
    factor = _factor(score(CLEAN), "credit_report")

    assert (factor.points, factor.reason) == (25, "No adverse entries in the credit report.")


def test_it_adds_up_several_credit_flags():
    card = score(replace(CLEAN, credit_flags=frozenset({"many_inquiries", "overdue_30_in_12m"})))

    assert _factor(card, "credit_report").points == 10


def test_it_stops_the_credit_report_at_zero():
    card = score(replace(CLEAN, credit_flags=frozenset({"litigation", "overdue_90_in_24m"})))

    factor = _factor(card, "credit_report")
    assert factor.points == 0
    assert factor.reason == (
        "Deductions from 25 points: 90+ days overdue in the last 24 months (−20); "
        "Involved in litigation or enforcement (−15). "
        "The deductions exceed 25 points, so this factor stops at 0."
    )


def test_it_stops_at_zero_with_every_credit_flag():
    card = score(replace(CLEAN, credit_flags=frozenset(CREDIT_FLAGS)))

    assert _factor(card, "credit_report").points == 0
    assert card.total == 28 + 25 + 0 + 10 + 0


def test_it_refuses_an_unknown_credit_flag():
    with pytest.raises(ValueError, match="credit flags"):
        score(replace(CLEAN, credit_flags=frozenset({"bankrupt"})))


@pytest.mark.parametrize(
    ("collateral", "points"),
    [
        ("200000.00", 15),
        ("150000.00", 15),
        ("149999.99", 10),
        ("100000.00", 10),
        ("99999.99", 5),
        ("50000.00", 5),
        ("49999.99", 0),
        ("0.00", 0),
    ],
)
def test_it_scores_collateral_coverage_of_a_100000_loan(collateral, points):
    factor = _factor(score(replace(CLEAN, collateral_value=Decimal(collateral))), "collateral")

    assert (factor.points, factor.max_points) == (points, 15)


def test_it_never_rounds_the_shown_coverage_up_into_a_better_band():
    factor = _factor(score(replace(CLEAN, collateral_value=Decimal("149999.99"))), "collateral")

    assert factor.reason == "Collateral of ¥149,999.99 covers 1.49× the amount of ¥100,000.00."


def test_it_says_when_there_is_no_collateral():
    assert _factor(score(replace(CLEAN, collateral_value=Decimal(0))), "collateral").reason == "No collateral."


def test_it_scores_a_guarantor():
    with_guarantor = _factor(score(replace(CLEAN, has_guarantor=True)), "guarantor")
    without = _factor(score(CLEAN), "guarantor")

    assert (with_guarantor.points, with_guarantor.reason) == (5, "A guarantor backs the loan.")
    assert (without.points, without.reason) == (0, "No guarantor.")


@pytest.mark.parametrize(
    ("total", "grade"),
    [(100, "A"), (85, "A"), (84, "B"), (70, "B"), (69, "C"), (55, "C"), (54, "D"), (40, "D"), (39, "E"), (0, "E")],
)
def test_it_grades_totals_on_the_boundaries(total, grade):
    assert grade_for(total) == grade


def test_it_grades_the_sum_of_the_factors():
    # 30 + 20 + 25 + 5 + 5 = 85
    a = score(replace(CLEAN, years_at_job=5, dti=Decimal("35"), collateral_value=Decimal("50000"), has_guarantor=True))
    # 28 + 25 + 25 + 5 + 0 = 83
    b = score(replace(CLEAN, collateral_value=Decimal("50000")))

    assert (a.total, a.grade) == (85, "A")
    assert (b.total, b.grade) == (83, "B")


def test_it_has_no_hard_stop_for_a_clean_application():
    assert score(CLEAN).hard_stops == ()


def test_it_stops_a_borrower_too_old_at_maturity():
    card = score(replace(CLEAN, age=62, age_at_maturity=67))

    assert card.hard_stops == ("The borrower would be 67 at maturity, above this product's limit of 65.",)


def test_it_allows_a_borrower_who_reaches_the_maximum_age_at_maturity():
    assert score(replace(CLEAN, age=63, age_at_maturity=65)).hard_stops == ()


def test_it_stops_a_borrower_below_the_minimum_age():
    card = score(replace(CLEAN, age=20, age_at_maturity=21))

    assert card.hard_stops == ("The borrower is 20, below this product's minimum age of 22.",)
    assert score(replace(CLEAN, age=22, age_at_maturity=23)).hard_stops == ()


def test_it_applies_no_age_stop_to_a_company():
    company = replace(CLEAN, borrower_kind="company", age=20, age_at_maturity=90)

    assert score(company).hard_stops == ()


def test_it_stops_a_debt_to_income_above_the_products_maximum():
    card = score(replace(CLEAN, dti=Decimal("62.15")))

    assert card.hard_stops == (
        "Debt-to-income after this loan would be 62.15%, above this product's maximum of 50.00%.",
    )
    assert score(replace(CLEAN, dti=Decimal("50.00"))).hard_stops == ()


def test_it_stops_an_unknown_debt_to_income_when_the_product_has_a_maximum():
    card = score(replace(CLEAN, dti=None))

    assert card.hard_stops == ("Debt-to-income is unknown, so this product's maximum of 50.00% cannot be checked.",)
    assert score(replace(CLEAN, dti=None, product_max_dti=None)).hard_stops == ()


def test_it_stops_a_blocklisted_identity():
    card = score(replace(CLEAN, blocklisted=True))

    assert card.hard_stops == ("The identity is on the internal block list.",)
    assert card.total == 88  # a hard stop changes no points


def test_it_stops_a_borrower_currently_overdue_elsewhere():
    card = score(replace(CLEAN, credit_flags=frozenset({"current_overdue"})))

    assert card.hard_stops == ("The borrower is currently overdue with another lender.",)


def test_it_lists_every_hard_stop_at_once():
    card = score(
        replace(
            CLEAN,
            age=60,
            age_at_maturity=70,
            product_min_age=65,
            dti=Decimal("80"),
            blocklisted=True,
            credit_flags=frozenset({"current_overdue"}),
        )
    )

    assert card.hard_stops == (
        "The borrower would be 70 at maturity, above this product's limit of 65.",
        "The borrower is 60, below this product's minimum age of 65.",
        "Debt-to-income after this loan would be 80.00%, above this product's maximum of 50.00%.",
        "The identity is on the internal block list.",
        "The borrower is currently overdue with another lender.",
    )


def test_it_labels_every_credit_flag_an_officer_can_enter():
    assert {code: str(label) for code, label in CREDIT_FLAGS.items()} == {
        "current_overdue": "Currently overdue with another lender",
        "overdue_90_in_24m": "90+ days overdue in the last 24 months",
        "overdue_30_in_12m": "30+ days overdue in the last 12 months",
        "many_inquiries": "More than 6 credit inquiries in the last 3 months",
        "litigation": "Involved in litigation or enforcement",
        "no_credit_history": "No credit history",
    }
