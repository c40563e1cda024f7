"""Credit scorecard (评分卡): a transparent score the officer can check factor by factor.

Pure functions over plain dataclasses: no database access and no model imports; the models build ``ScoringInput``.

Points (maximum 100):

=================== ===== ================================================================================
factor              max   points
=================== ===== ================================================================================
income_stability     30   stable 25 / variable 15 / unstable 5, plus years at the current job:
                          ≥ 5 years +5, ≥ 2 years +3, fewer 0
dti                  25   debt-to-income ≤ 30 % → 25, ≤ 40 % → 20, ≤ 50 % → 12, ≤ 60 % → 5, above 60 % → 0,
                          unknown → 0
credit_report        25   start at 25, then current_overdue −25, overdue_90_in_24m −20, overdue_30_in_12m −10,
                          many_inquiries −5, litigation −15, no_credit_history −5; never below 0
collateral           15   coverage = collateral value / amount: ≥ 1.5 → 15, ≥ 1.0 → 10, ≥ 0.5 → 5, below 0
guarantor             5   5 with a guarantor, else 0
=================== ===== ================================================================================

Grades by total: A ≥ 85, B ≥ 70, C ≥ 55, D ≥ 40, E below 40.

Hard stops do not change the points; they are listed for the officer and block approval on their own:
age at maturity above the product's maximum or age below its minimum (individuals and sole proprietors only),
debt-to-income above the product's maximum (or unknown when the product has a maximum), an identity on the internal
block list, and a borrower currently overdue with another lender.
"""

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.money import format_yuan, round_money

CREDIT_FLAGS = {
    "current_overdue": gettext_lazy("Currently overdue with another lender"),
    "overdue_90_in_24m": gettext_lazy("90+ days overdue in the last 24 months"),
    "overdue_30_in_12m": gettext_lazy("30+ days overdue in the last 12 months"),
    "many_inquiries": gettext_lazy("More than 6 credit inquiries in the last 3 months"),
    "litigation": gettext_lazy("Involved in litigation or enforcement"),
    "no_credit_history": gettext_lazy("No credit history"),
}

INCOME_STABILITY = {
    "stable": gettext_lazy("Stable"),
    "variable": gettext_lazy("Variable"),
    "unstable": gettext_lazy("Unstable"),
}

_INCOME_POINTS = {"stable": 25, "variable": 15, "unstable": 5}
_YEARS_AT_JOB_BONUS = ((5, 5), (2, 3))  # (at least this many years, points), best first
_INCOME_MAX = 30

_DTI_BANDS = ((Decimal(30), 25), (Decimal(40), 20), (Decimal(50), 12), (Decimal(60), 5))  # (at most %, points)
_DTI_MAX = 25

_CREDIT_START = 25
_CREDIT_DEDUCTIONS = {
    "current_overdue": 25,
    "overdue_90_in_24m": 20,
    "overdue_30_in_12m": 10,
    "many_inquiries": 5,
    "litigation": 15,
    "no_credit_history": 5,
}

_COLLATERAL_BANDS = ((Decimal("1.5"), 15), (Decimal("1.0"), 10), (Decimal("0.5"), 5))  # (coverage at least, points)
_COLLATERAL_MAX = 15

_GUARANTOR_POINTS = 5

_GRADES = ((85, "A"), (70, "B"), (55, "C"), (40, "D"))  # (total at least, grade); below the last: "E"

_AGED_KINDS = frozenset({"individual", "sole_proprietor"})


@dataclass(frozen=True)
class ScoringInput:
    borrower_kind: str
    age: int | None
    income_stability: str  # "stable" | "variable" | "unstable"
    years_at_job: int
    dti: Decimal | None  # percent, after the new loan's payment
    credit_flags: frozenset[str]  # subset of CREDIT_FLAGS
    collateral_value: Decimal
    amount: Decimal
    has_guarantor: bool
    product_min_age: int | None
    product_max_age: int | None  # at maturity
    age_at_maturity: int | None
    product_max_dti: Decimal | None
    blocklisted: bool


@dataclass(frozen=True)
class Factor:
    code: str
    label: str
    points: int
    max_points: int
    reason: str


@dataclass(frozen=True)
class Scorecard:
    factors: tuple[Factor, ...]
    total: int
    max_total: int
    grade: str  # "A".."E"
    hard_stops: tuple[str, ...]  # reasons in words


def score(inp: ScoringInput) -> Scorecard:
    """Score an application factor by factor; raises ValueError for an unknown income stability or credit flag."""
    factors = (
        _income_stability(inp.income_stability, inp.years_at_job),
        _debt_to_income(inp.dti),
        _credit_report(inp.credit_flags),
        _collateral(inp.collateral_value, inp.amount),
        _guarantor(inp.has_guarantor),
    )
    total = sum(f.points for f in factors)
    return Scorecard(
        factors=factors,
        total=total,
        max_total=sum(f.max_points for f in factors),
        grade=grade_for(total),
        hard_stops=_hard_stops(inp),
    )


def grade_for(total: int) -> str:
    """Return the grade "A".."E" of a total score."""
    for minimum, grade in _GRADES:
        if total >= minimum:
            return grade
    return "E"


def _income_stability(stability: str, years_at_job: int) -> Factor:
    if stability not in _INCOME_POINTS:
        raise ValueError(f"Unknown income stability {stability!r}; expected one of: {', '.join(_INCOME_POINTS)}.")
    base = _INCOME_POINTS[stability]
    bonus = next((points for years, points in _YEARS_AT_JOB_BONUS if years_at_job >= years), 0)
    stability_sentence = {
        "stable": _("Income is stable (%(points)d points)."),
        "variable": _("Income is variable (%(points)d points)."),
        "unstable": _("Income is unstable (%(points)d points)."),
    }[stability] % {"points": base}
    years_sentence = ngettext(
        "%(years)d year at the current job (+%(bonus)d).",
        "%(years)d years at the current job (+%(bonus)d).",
        years_at_job,
    ) % {"years": years_at_job, "bonus": bonus}
    return Factor(
        code="income_stability",
        label=_("Income stability"),
        points=base + bonus,
        max_points=_INCOME_MAX,
        reason=f"{stability_sentence} {years_sentence}",
    )


def _debt_to_income(dti: Decimal | None) -> Factor:
    if dti is None:
        points, reason = 0, _("Debt-to-income is unknown.")
    else:
        band = next(((limit, points) for limit, points in _DTI_BANDS if dti <= limit), None)
        if band is None:
            points = 0
            reason = _("Debt-to-income of %(dti)s is above %(limit)s.") % {
                "dti": _percent(dti),
                "limit": _percent(_DTI_BANDS[-1][0]),
            }
        else:
            limit, points = band
            reason = _("Debt-to-income of %(dti)s is at most %(limit)s.") % {
                "dti": _percent(dti),
                "limit": _percent(limit),
            }
    return Factor(code="dti", label=_("Debt-to-income"), points=points, max_points=_DTI_MAX, reason=reason)


def _credit_report(flags: frozenset[str]) -> Factor:
    unknown = set(flags) - set(CREDIT_FLAGS)
    if unknown:
        raise ValueError(f"Unknown credit flags {sorted(unknown)}; expected some of: {', '.join(CREDIT_FLAGS)}.")
    # CREDIT_FLAGS order, so the same flags always read the same way.
    present = [code for code in CREDIT_FLAGS if code in flags]
    deducted = sum(_CREDIT_DEDUCTIONS[code] for code in present)
    points = max(_CREDIT_START - deducted, 0)
    if not present:
        reason = _("No adverse entries in the credit report.")
    else:
        entries = "; ".join(f"{CREDIT_FLAGS[code]} (−{_CREDIT_DEDUCTIONS[code]})" for code in present)
        reason = _("Deductions from %(start)d points: %(entries)s.") % {"start": _CREDIT_START, "entries": entries}
        if deducted > _CREDIT_START:
            reason += " " + _("The deductions exceed %(start)d points, so this factor stops at 0.") % {
                "start": _CREDIT_START
            }
    return Factor(
        code="credit_report", label=_("Credit report"), points=points, max_points=_CREDIT_START, reason=reason
    )


def _collateral(collateral_value: Decimal, amount: Decimal) -> Factor:
    if amount <= 0:
        points, reason = 0, _("There is no loan amount to cover.")
    elif collateral_value <= 0:
        points, reason = 0, _("No collateral.")
    else:
        coverage = collateral_value / amount
        points = next((points for minimum, points in _COLLATERAL_BANDS if coverage >= minimum), 0)
        # Shown rounded down, so a coverage of 1.499 never reads "1.50" beside the points of 1.0.
        shown = coverage.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        reason = _("Collateral of %(value)s covers %(coverage)s× the amount of %(amount)s.") % {
            "value": format_yuan(collateral_value),
            "coverage": f"{shown:f}",
            "amount": format_yuan(amount),
        }
    return Factor(
        code="collateral", label=_("Collateral coverage"), points=points, max_points=_COLLATERAL_MAX, reason=reason
    )


def _guarantor(has_guarantor: bool) -> Factor:
    return Factor(
        code="guarantor",
        label=_("Guarantor"),
        points=_GUARANTOR_POINTS if has_guarantor else 0,
        max_points=_GUARANTOR_POINTS,
        reason=_("A guarantor backs the loan.") if has_guarantor else _("No guarantor."),
    )


def _hard_stops(inp: ScoringInput) -> tuple[str, ...]:
    stops = []
    if inp.borrower_kind in _AGED_KINDS:
        if (
            inp.product_max_age is not None
            and inp.age_at_maturity is not None
            and inp.age_at_maturity > inp.product_max_age
        ):
            stops.append(
                _("The borrower would be %(age)d at maturity, above this product's limit of %(maximum)d.")
                % {"age": inp.age_at_maturity, "maximum": inp.product_max_age}
            )
        if inp.product_min_age is not None and inp.age is not None and inp.age < inp.product_min_age:
            stops.append(
                _("The borrower is %(age)d, below this product's minimum age of %(minimum)d.")
                % {"age": inp.age, "minimum": inp.product_min_age}
            )
    if inp.product_max_dti is not None:
        if inp.dti is None:
            stops.append(
                _("Debt-to-income is unknown, so this product's maximum of %(maximum)s cannot be checked.")
                % {"maximum": _percent(inp.product_max_dti)}
            )
        elif inp.dti > inp.product_max_dti:
            stops.append(
                _("Debt-to-income after this loan would be %(dti)s, above this product's maximum of %(maximum)s.")
                % {"dti": _percent(inp.dti), "maximum": _percent(inp.product_max_dti)}
            )
    if inp.blocklisted:
        stops.append(_("The identity is on the internal block list."))
    if "current_overdue" in inp.credit_flags:
        stops.append(_("The borrower is currently overdue with another lender."))
    return tuple(stops)


def _percent(value: Decimal) -> str:
    return f"{round_money(value):f}%"
