"""Product matching: eligibility reasons an officer reads, the payment estimate and the order of the product list."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from applications.matching import (
    BorrowerProfile,
    LoanRequest,
    MatchResult,
    ProductTerms,
    age_at_maturity,
    age_on,
    match_product,
    match_products,
)

TODAY = date(2025, 3, 15)

PRODUCT = ProductTerms(
    code="CONSUMER",
    name="Consumer loan",
    methods=("equal_installment", "equal_principal"),
    min_amount=Decimal("10000.00"),
    max_amount=Decimal("500000.00"),
    min_term_months=6,
    max_term_months=60,
    min_rate=Decimal("4.3500"),
    max_rate=Decimal("12.0000"),
    borrower_kinds=("individual", "sole_proprietor"),
    min_age=22,
    max_age=65,
    min_monthly_income=Decimal("5000.00"),
    max_dti=Decimal("55.00"),
)

PROFILE = BorrowerProfile(
    kind="individual",
    birth_date=date(1985, 6, 1),
    monthly_income=Decimal("20000.00"),
    monthly_debt_payments=Decimal("2000.00"),
)

REQUEST = LoanRequest(amount=Decimal("100000.00"), term_months=12, method="equal_installment")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _match(*, profile=PROFILE, request=REQUEST, product=PRODUCT, today=TODAY) -> MatchResult:
    return match_product(profile=profile, request=request, product=product, today=today)


def test_it_finds_an_eligible_product_with_the_payment_at_the_minimum_rate_and_the_dti():
    result = _match()

    assert result.eligible is True
    assert result.reasons == ()
    assert result.method == "equal_installment"
    assert result.monthly_payment == Decimal("8530.99")
    # (2,000 + 8,530.99) / 20,000 × 100 = 52.65495 → 52.65
    assert result.dti == Decimal("52.65")
    assert result.product is PRODUCT


def test_it_uses_the_products_first_method_when_none_is_requested():
    result = _match(request=replace(REQUEST, method=None))

    assert result.eligible is True
    assert result.method == "equal_installment"
    assert result.monthly_payment == Decimal("8530.99")


def test_it_estimates_with_the_requested_method_when_the_product_offers_it():
    result = _match(request=replace(REQUEST, method="equal_principal"))

    assert result.method == "equal_principal"
    # 100,000 / 12 = 8,333.33 principal + 100,000 × 4.35 % / 12 = 362.50 interest
    assert result.monthly_payment == Decimal("8695.83")


def test_it_refuses_an_amount_above_the_maximum():
    result = _match(request=replace(REQUEST, amount=Decimal("600000.00")))

    assert result.eligible is False
    assert "The amount is above this product's maximum of ¥500,000.00." in result.reasons


def test_it_refuses_an_amount_below_the_minimum_and_still_estimates_the_payment():
    result = _match(request=replace(REQUEST, amount=Decimal("5000.00")))

    assert result.eligible is False
    assert result.reasons == ("The amount is below this product's minimum of ¥10,000.00.",)
    assert result.monthly_payment == Decimal("426.55")


def test_it_accepts_amounts_and_terms_on_the_range_limits():
    low = _match(request=replace(REQUEST, amount=Decimal("10000.00"), term_months=6))
    high = _match(
        profile=replace(PROFILE, monthly_income=Decimal("100000.00")),
        request=replace(REQUEST, amount=Decimal("500000.00"), term_months=60),
    )

    assert low.eligible is True
    assert high.eligible is True


def test_it_refuses_a_term_above_the_maximum():
    result = _match(request=replace(REQUEST, term_months=72))

    assert result.eligible is False
    assert "The term of 72 months is above this product's maximum of 60 months." in result.reasons


def test_it_refuses_a_term_below_the_minimum():
    assert (
        "The term of 3 months is below this product's minimum of 6 months."
        in _match(request=replace(REQUEST, term_months=3)).reasons
    )
    assert (
        "The term of 1 month is below this product's minimum of 6 months."
        in _match(request=replace(REQUEST, term_months=1)).reasons
    )


def test_it_says_month_in_the_singular_for_a_one_month_maximum():
    product = replace(PRODUCT, min_term_months=1, max_term_months=1)

    result = _match(request=replace(REQUEST, amount=Decimal("10000.00"), term_months=2), product=product)

    assert result.reasons == ("The term of 2 months is above this product's maximum of 1 month.",)


def test_it_refuses_a_method_the_product_does_not_offer_and_estimates_with_its_first_method():
    result = _match(request=replace(REQUEST, method="bullet"))

    assert result.eligible is False
    assert result.reasons == (
        "The repayment method “Bullet (principal and interest at maturity)” is not offered by this product.",
    )
    assert result.method == "equal_installment"
    assert result.monthly_payment == Decimal("8530.99")


@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        ("company", "This product is not offered to companies."),
        ("individual", "This product is not offered to individuals."),
        ("sole_proprietor", "This product is not offered to sole proprietors."),
    ],
)
def test_it_names_the_borrower_kind_a_product_is_not_offered_to(kind, sentence):
    product = replace(PRODUCT, borrower_kinds=tuple({"individual", "sole_proprietor", "company"} - {kind}))

    result = _match(profile=replace(PROFILE, kind=kind), product=product)

    assert result.eligible is False
    assert result.reasons == (sentence,)


def test_it_refuses_a_borrower_too_old_at_maturity():
    # Maturity is 15 March 2027, the borrower's 67th birthday.
    result = _match(profile=replace(PROFILE, birth_date=date(1960, 3, 15)), request=replace(REQUEST, term_months=24))

    assert result.eligible is False
    assert result.reasons == ("The borrower would be 67 at maturity, above this product's limit of 65.",)


def test_it_accepts_a_borrower_who_turns_the_maximum_age_at_maturity():
    # 65 on 15 March 2026 (maturity of a 12-month loan taken today); 66 only the day after.
    on_limit = _match(profile=replace(PROFILE, birth_date=date(1961, 3, 16)))
    one_day_older = _match(profile=replace(PROFILE, birth_date=date(1960, 3, 15)))

    assert on_limit.eligible is True
    assert one_day_older.reasons == ("The borrower would be 66 at maturity, above this product's limit of 65.",)


def test_it_refuses_a_borrower_below_the_minimum_age():
    result = _match(profile=replace(PROFILE, birth_date=date(2004, 6, 1)))

    assert result.eligible is False
    assert result.reasons == ("The borrower is 20, below this product's minimum age of 22.",)


def test_it_accepts_a_borrower_on_the_birthday_of_the_minimum_age():
    assert _match(profile=replace(PROFILE, birth_date=date(2003, 3, 15))).eligible is True
    assert _match(profile=replace(PROFILE, birth_date=date(2003, 3, 16))).eligible is False


def test_it_checks_age_only_for_natural_persons_with_a_birth_date():
    company_product = replace(PRODUCT, borrower_kinds=("company",))
    company = replace(PROFILE, kind="company", birth_date=date(2020, 1, 1))

    assert _match(profile=company, product=company_product).eligible is True
    assert _match(profile=replace(PROFILE, birth_date=None)).eligible is True


def test_it_refuses_an_income_below_the_minimum():
    result = _match(profile=replace(PROFILE, monthly_income=Decimal("3000.00"), monthly_debt_payments=Decimal(0)))

    assert result.eligible is False
    assert "Monthly income of ¥3,000.00 is below this product's minimum of ¥5,000.00." in result.reasons


def test_it_refuses_a_debt_to_income_above_the_maximum():
    product = replace(PRODUCT, max_dti=Decimal("50"))
    # (3,899.01 + 8,530.99) / 20,000 × 100 = 62.15
    profile = replace(PROFILE, monthly_debt_payments=Decimal("3899.01"))

    result = _match(profile=profile, product=product)

    assert result.eligible is False
    assert result.dti == Decimal("62.15")
    assert result.reasons == (
        "Debt-to-income after this loan would be 62.15%, above this product's maximum of 50.00%.",
    )


def test_it_accepts_a_debt_to_income_equal_to_the_maximum():
    assert _match(product=replace(PRODUCT, max_dti=Decimal("52.65"))).eligible is True
    assert _match(product=replace(PRODUCT, max_dti=Decimal("52.64"))).eligible is False


def test_it_spreads_a_bullet_payment_over_the_term_for_debt_to_income():
    product = replace(PRODUCT, methods=("bullet",))

    result = _match(request=replace(REQUEST, method="bullet"), product=product)

    # One payment at maturity: 100,000 + 100,000 × 4.35 % × 12/12 = 104,350.00.
    assert result.method == "bullet"
    assert result.monthly_payment == Decimal("104350.00")
    # DTI uses 104,350.00 / 12 = 8,695.83 a month: (2,000 + 8,695.83) / 20,000 × 100 = 53.479 → 53.48.
    assert result.dti == Decimal("53.48")
    assert result.eligible is True


def test_it_refuses_a_borrower_without_income_when_the_product_limits_debt_to_income():
    product = replace(PRODUCT, min_monthly_income=None)

    result = _match(profile=replace(PROFILE, monthly_income=Decimal("0.00")), product=product)

    assert result.eligible is False
    assert result.dti is None
    assert result.monthly_payment == Decimal("8530.99")
    assert result.reasons == ("No monthly income is recorded, so debt-to-income cannot be computed.",)


def test_it_accepts_a_borrower_without_income_when_the_product_has_no_income_rules():
    product = replace(PRODUCT, min_monthly_income=None, max_dti=None)

    result = _match(profile=replace(PROFILE, monthly_income=Decimal("0.00")), product=product)

    assert result.eligible is True
    assert result.dti is None


def test_it_leaves_the_estimate_empty_when_no_schedule_can_be_built():
    result = _match(request=replace(REQUEST, amount=Decimal("0.00")))

    assert result.eligible is False
    assert result.monthly_payment is None
    assert result.dti is None
    assert result.reasons == ("The amount is below this product's minimum of ¥10,000.00.",)


def test_it_lists_every_failed_rule():
    result = _match(
        profile=replace(PROFILE, kind="company"),
        request=LoanRequest(amount=Decimal("600000.00"), term_months=72, method="bullet"),
    )

    assert result.reasons == (
        "The amount is above this product's maximum of ¥500,000.00.",
        "The term of 72 months is above this product's maximum of 60 months.",
        "The repayment method “Bullet (principal and interest at maturity)” is not offered by this product.",
        "This product is not offered to companies.",
        "Debt-to-income after this loan would be 57.42%, above this product's maximum of 55.00%.",
    )


def test_it_orders_products_eligible_first_then_by_payment_then_by_code():
    cheapest_but_for_companies = replace(PRODUCT, code="AAA", min_rate=Decimal("0"), borrower_kinds=("company",))
    dear = replace(PRODUCT, code="DEAR", min_rate=Decimal("6.0000"))
    cheap_b = replace(PRODUCT, code="CHEAP_B", min_rate=Decimal("3.0000"))
    cheap_a = replace(PRODUCT, code="CHEAP_A", min_rate=Decimal("3.0000"))

    results = match_products(
        profile=PROFILE, request=REQUEST, products=[cheapest_but_for_companies, dear, cheap_b, cheap_a], today=TODAY
    )

    assert [(r.product.code, r.eligible, r.monthly_payment) for r in results] == [
        ("CHEAP_A", True, Decimal("8469.37")),
        ("CHEAP_B", True, Decimal("8469.37")),
        ("DEAR", True, Decimal("8606.64")),
        ("AAA", False, Decimal("8333.33")),
    ]


def test_it_orders_products_without_an_estimate_after_those_with_one():
    no_estimate = replace(PRODUCT, code="AAA", methods=())  # no method to estimate with
    too_small = replace(PRODUCT, code="ZZZ", max_amount=Decimal("50000.00"))
    request = replace(REQUEST, method=None)

    results = match_products(profile=PROFILE, request=request, products=[no_estimate, too_small], today=TODAY)

    assert [(r.product.code, r.eligible, r.monthly_payment) for r in results] == [
        ("ZZZ", False, Decimal("8530.99")),
        ("AAA", False, None),
    ]
    assert results[1].reasons == ("The repayment could not be estimated for this request.",)


def test_it_counts_age_in_whole_years():
    assert age_on(date(1990, 3, 15), date(2025, 3, 14)) == 34
    assert age_on(date(1990, 3, 15), date(2025, 3, 15)) == 35
    assert age_on(date(2000, 2, 29), date(2025, 2, 28)) == 24
    assert age_on(date(2000, 2, 29), date(2025, 3, 1)) == 25
    # Maturity of a 12-month loan taken on 31 January 2025 is 31 January 2026.
    assert age_at_maturity(date(1960, 1, 31), today=date(2025, 1, 31), term_months=12) == 66
