"""Product matching (贷款产品匹配): which loan products fit a borrower's request, and why the others do not.

Pure functions over plain dataclasses: no database access and no model imports; the models build these inputs.

Each rule that fails adds one sentence to ``MatchResult.reasons``, with its numbers, in the active language:
amount range, term range, repayment method, borrower kind, age (individuals and sole proprietors with a birth date
only: age today against the minimum, age at maturity against the maximum), minimum monthly income and maximum
debt-to-income (DTI). A product is eligible when no rule fails.

The estimate behind the monthly payment and the DTI is built with ``core.schedules.build_schedule`` at the product's
minimum rate (the best rate a borrower could get, so the estimate is a lower bound of the real payment), with the
requested method when the product offers it and otherwise the product's first method, and a first due date one month
after ``today``.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.dates import add_months
from core.money import format_yuan, round_money
from core.schedules import ScheduleMethod, build_schedule, first_payment

# Age limits concern natural persons; a company has no age.
_AGED_KINDS = frozenset({"individual", "sole_proprietor"})
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class BorrowerProfile:
    kind: str  # "individual" | "sole_proprietor" | "company"
    birth_date: date | None
    monthly_income: Decimal
    monthly_debt_payments: Decimal


@dataclass(frozen=True)
class LoanRequest:
    amount: Decimal
    term_months: int
    method: str | None = None  # None: any method the product offers
    purpose: str = ""


@dataclass(frozen=True)
class ProductTerms:
    code: str
    name: str
    methods: tuple[str, ...]
    min_amount: Decimal
    max_amount: Decimal
    min_term_months: int
    max_term_months: int
    min_rate: Decimal  # percent per year
    max_rate: Decimal
    borrower_kinds: tuple[str, ...]
    min_age: int | None
    max_age: int | None  # at maturity
    min_monthly_income: Decimal | None
    max_dti: Decimal | None  # percent, e.g. Decimal("50.00")


@dataclass(frozen=True)
class MatchResult:
    product: ProductTerms
    eligible: bool
    reasons: tuple[str, ...]  # why not, in words; empty when eligible
    method: str  # the method used for the estimate
    monthly_payment: Decimal | None  # first installment; for bullet, the single payment at maturity
    dti: Decimal | None  # percent with 2 decimals, including the new payment


def age_on(birth_date: date, on: date) -> int:
    """Return the age in whole years on a date (a birthday counts from its own day)."""
    had_birthday = (on.month, on.day) >= (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (0 if had_birthday else 1)


def age_at_maturity(birth_date: date, *, today: date, term_months: int) -> int:
    """Return the age in whole years on the day a loan taken today for term_months matures."""
    return age_on(birth_date, add_months(today, term_months))


def match_product(*, profile: BorrowerProfile, request: LoanRequest, product: ProductTerms, today: date) -> MatchResult:
    """Check one product against the request and estimate its payment at the product's minimum (best) rate.

    ``monthly_payment`` is the first installment's total; for ``bullet`` it is the single payment at maturity, and
    the DTI then uses its monthly equivalent, round_money(total / term_months), so a bullet loan is not judged as if
    it were repaid in one month. DTI = (monthly_debt_payments + monthly payment) / monthly_income × 100, rounded to
    2 decimals; it is None when there is no income or no estimate (the request is outside what a schedule accepts).
    """
    reasons: list[str] = []
    method = _estimate_method(request.method, product.methods)

    if request.amount > product.max_amount:
        reasons.append(
            _("The amount is above this product's maximum of %(maximum)s.")
            % {"maximum": format_yuan(product.max_amount)}
        )
    elif request.amount < product.min_amount:
        reasons.append(
            _("The amount is below this product's minimum of %(minimum)s.")
            % {"minimum": format_yuan(product.min_amount)}
        )

    if request.term_months > product.max_term_months:
        reasons.append(
            ngettext(
                "The term of %(term)d months is above this product's maximum of %(maximum)d month.",
                "The term of %(term)d months is above this product's maximum of %(maximum)d months.",
                product.max_term_months,
            )
            % {"term": request.term_months, "maximum": product.max_term_months}
        )
    elif request.term_months < product.min_term_months:
        reasons.append(
            ngettext(
                "The term of %(term)d month is below this product's minimum of %(minimum)d months.",
                "The term of %(term)d months is below this product's minimum of %(minimum)d months.",
                request.term_months,
            )
            % {"term": request.term_months, "minimum": product.min_term_months}
        )

    if request.method is not None and request.method not in product.methods:
        reasons.append(
            _("The repayment method “%(method)s” is not offered by this product.")
            % {"method": _method_label(request.method)}
        )

    if profile.kind not in product.borrower_kinds:
        reasons.append(_kind_not_offered(profile.kind))

    if profile.kind in _AGED_KINDS and profile.birth_date is not None:
        reasons.extend(_age_reasons(profile.birth_date, request.term_months, product, today))

    if product.min_monthly_income is not None and profile.monthly_income < product.min_monthly_income:
        reasons.append(
            _("Monthly income of %(income)s is below this product's minimum of %(minimum)s.")
            % {"income": format_yuan(profile.monthly_income), "minimum": format_yuan(product.min_monthly_income)}
        )

    monthly_payment, dti_payment = _estimate(request, product, method, today)
    dti = None
    if profile.monthly_income <= 0:
        if product.max_dti is not None:
            reasons.append(_("No monthly income is recorded, so debt-to-income cannot be computed."))
    elif dti_payment is not None:
        dti = round_money((profile.monthly_debt_payments + dti_payment) / profile.monthly_income * _HUNDRED)
        if product.max_dti is not None and dti > product.max_dti:
            reasons.append(
                _("Debt-to-income after this loan would be %(dti)s, above this product's maximum of %(maximum)s.")
                % {"dti": _percent(dti), "maximum": _percent(product.max_dti)}
            )

    if monthly_payment is None and not reasons:
        # Every range check passed yet no schedule could be built: never call such a request eligible.
        reasons.append(_("The repayment could not be estimated for this request."))

    return MatchResult(
        product=product,
        eligible=not reasons,
        reasons=tuple(reasons),
        method=method,
        monthly_payment=monthly_payment,
        dti=dti,
    )


def match_products(
    *, profile: BorrowerProfile, request: LoanRequest, products: Iterable[ProductTerms], today: date
) -> list[MatchResult]:
    """Match every product; eligible ones first, then by monthly payment (unknown last), then by product code."""
    results = [match_product(profile=profile, request=request, product=p, today=today) for p in products]
    return sorted(
        results,
        key=lambda r: (
            not r.eligible,
            r.monthly_payment is None,
            r.monthly_payment if r.monthly_payment is not None else Decimal(0),
            r.product.code,
        ),
    )


def _estimate_method(requested: str | None, offered: tuple[str, ...]) -> str:
    if requested is not None and requested in offered:
        return requested
    if offered:
        return offered[0]
    return requested or ""


def _estimate(
    request: LoanRequest, product: ProductTerms, method: str, today: date
) -> tuple[Decimal | None, Decimal | None]:
    """Return (monthly payment as shown, monthly payment for DTI), or (None, None) when no schedule can be built."""
    try:
        rows = build_schedule(
            principal=request.amount,
            annual_rate=product.min_rate,
            term_months=request.term_months,
            method=method,
            first_due_date=add_months(today, 1),
        )
    except ValueError:
        return None, None
    payment = first_payment(rows)
    if method == ScheduleMethod.BULLET:
        return payment, round_money(payment / Decimal(request.term_months))
    return payment, payment


def _age_reasons(birth_date: date, term_months: int, product: ProductTerms, today: date) -> list[str]:
    reasons = []
    age_now = age_on(birth_date, today)
    if product.min_age is not None and age_now < product.min_age:
        reasons.append(
            _("The borrower is %(age)d, below this product's minimum age of %(minimum)d.")
            % {"age": age_now, "minimum": product.min_age}
        )
    if product.max_age is not None:
        at_maturity = age_at_maturity(birth_date, today=today, term_months=term_months)
        if at_maturity > product.max_age:
            reasons.append(
                _("The borrower would be %(age)d at maturity, above this product's limit of %(maximum)d.")
                % {"age": at_maturity, "maximum": product.max_age}
            )
    return reasons


def _kind_not_offered(kind: str) -> str:
    # Whole sentences per kind, so each language can phrase them naturally.
    if kind == "individual":
        return _("This product is not offered to individuals.")
    if kind == "sole_proprietor":
        return _("This product is not offered to sole proprietors.")
    if kind == "company":
        return _("This product is not offered to companies.")
    return _("This product is not offered to borrowers of type “%(kind)s”.") % {"kind": kind}


def _method_label(method: str) -> str:
    try:
        return str(ScheduleMethod(method).label)
    except ValueError:
        return method


def _percent(value: Decimal) -> str:
    return f"{round_money(value):f}%"
