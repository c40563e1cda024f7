"""The follow-up plan of a loan (DESIGN.md §5), one pure function with no database access.

At disbursement D of a loan maturing on M:
- `first` at D + 30 days, `second` at D + 90 days, `pre_maturity` at M − 30 days;
- for terms over 12 months, `quarterly` every 3 months after the second, while before pre_maturity's date. Quarter k
  is `add_months(second, 3k)`, each counted from the second's date (never chained from the previous quarter), so a
  date clipped at a month end (30 May → 30 Aug, 28 Feb → 28 May) does not drift. The second's date, not D, is the
  anchor: "every 3 months after the second" is what the policy says, and D + 90 days is not D + 3 months;
- only dates strictly after D and strictly before M are kept;
- collisions: dates less than `collision_days` (15) apart collide. Candidates are taken in order of importance,
  pre_maturity, first, second, then the quarterlies by date, and one is kept only when it is at least
  `collision_days` away from every date already kept. So a lower one never pushes out a higher one, and a date
  dropped for a collision never blocks anything (no chains: a quarterly close to a dropped second is still kept).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from core.dates import add_months

from .models.followups import FollowUpKind

# Terms of more than this many months also get quarterly follow-ups.
QUARTERLY_ABOVE_MONTHS = 12
QUARTER_MONTHS = 3


@dataclass(frozen=True)
class PlanPolicy:
    """The default policy; a product's `FollowUpPolicy` row has the same attributes and can stand in for it."""

    first_after_days: int = 30
    second_after_days: int = 90
    pre_maturity_days: int = 30
    quarterly: bool = True
    collision_days: int = 15


DEFAULT_POLICY = PlanPolicy()


def term_over_months(*, disbursed_on: date, maturity_on: date, months: int) -> bool:
    """Whether the loan runs more than `months` calendar months from disbursement to maturity."""
    return maturity_on > add_months(disbursed_on, months)


def plan(
    *, disbursed_on: date, maturity_on: date, policy=None, term_months: int | None = None
) -> list[tuple[str, date]]:
    """The planned `(kind, due_on)` pairs of a loan, sorted by date (and, on one date, by importance).

    `policy` is a FollowUpPolicy (or PlanPolicy); None means the default. `term_months` is the contract's term when
    the caller knows it (the planner passes `Loan.term_months`): a 12-month loan whose first period is longer than a
    month still runs more than 12 months from D to M, and its contract, not the calendar, says it is a 12-month loan.
    Without it, the term is the calendar months from D to M.
    """
    policy = policy or DEFAULT_POLICY
    d, m = disbursed_on, maturity_on
    if m <= d:
        return []
    first = d + timedelta(days=policy.first_after_days)
    second = d + timedelta(days=policy.second_after_days)
    pre_maturity = m - timedelta(days=policy.pre_maturity_days)

    # Candidates in order of importance; the quarterlies among themselves by date.
    candidates: list[tuple[str, date]] = [
        (FollowUpKind.PRE_MATURITY.value, pre_maturity),
        (FollowUpKind.FIRST.value, first),
        (FollowUpKind.SECOND.value, second),
    ]
    if term_months is None:
        long_term = term_over_months(disbursed_on=d, maturity_on=m, months=QUARTERLY_ABOVE_MONTHS)
    else:
        long_term = term_months > QUARTERLY_ABOVE_MONTHS
    if policy.quarterly and long_term:
        quarter = 1
        while (due := add_months(second, QUARTER_MONTHS * quarter)) < pre_maturity:
            candidates.append((FollowUpKind.QUARTERLY.value, due))
            quarter += 1

    window = policy.collision_days
    kept: list[tuple[str, date]] = []
    for kind, due in candidates:
        if not d < due < m:
            continue
        if all(abs((due - other).days) >= window for _kind, other in kept):
            kept.append((kind, due))
    importance = {kind: rank for rank, (kind, _due) in enumerate(candidates[:3])}
    kept.sort(key=lambda pair: (pair[1], importance.get(pair[0], len(importance))))
    return kept
