"""Portfolio KPIs: disbursements by month, the book outstanding, overdue by aging bucket, the five categories, the
NPL ratio and the largest overdue loans.

Each function takes a `dashboard.scope.Scope` and returns a dict; each runs one aggregate query (top_overdue: one
query for its rows) whatever the number of loans and installments. "Now" figures (outstanding, overdue,
classification, NPL) describe the open loans (active or overdue) today and ignore the period; the period applies to
disbursements. The product filter reaches a loan through the application its contract was drawn from.

Roll rates between buckets month over month read the month-end snapshots the daily sweep writes
(`postloan.models.LoanMonthEnd`): the sweep changes `Loan.bucket` in place, so only those rows remember where a loan
stood at the end of each month.
"""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    FilteredRelation,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth

from core.dates import add_months
from core.money import round_money
from postloan.models import OPEN_LOAN_STATUSES, Bucket, Classification, Loan, LoanMonthEnd, LoanStatus
from postloan.models.base import ZERO
from postloan.selectors import CLASSIFICATION_NPL, NPL_CLASSES, STATUS_OPEN, overdue_list

from ..scope import Scope
from .links import drill, scope_params
from .stats import percent

TOP_OVERDUE = 10


def _loan_list_drill(scope: Scope, **filters) -> str:
    """The loan list (postloan:list, the whole branch) with the dashboard's branch, product and officer carried over
    to its own filters."""
    return drill("postloan:list", show="branch", **filters, **scope_params(scope))


def _overdue_drill(scope: Scope, **filters) -> str:
    """The overdue list (postloan:overdue) with the dashboard's branch, product and officer."""
    return drill("postloan:overdue", **filters, **scope_params(scope))


def _loans(scope: Scope) -> QuerySet[Loan]:
    return scope.rows(Loan.objects.all(), branch="branch", product="product", officer="officer")


def _open_loans(scope: Scope) -> QuerySet[Loan]:
    return _loans(scope).filter(status__in=OPEN_LOAN_STATUSES).order_by()


def _money(value) -> Decimal:
    return round_money(value if value is not None else ZERO)


def _months(start: date, end: date) -> list[date]:
    """The first day of every month from `start`'s to `end`'s."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def disbursed_by_month(scope: Scope) -> dict:
    """How many loans were disbursed in each month of the period, and for how much (principal lent)."""
    rows = (
        scope.days_in_period(_loans(scope), "disbursed_on")
        .order_by()
        .annotate(month=TruncMonth("disbursed_on"))
        .values("month")
        .annotate(count=Count("pk"), amount=Sum("principal"))
    )
    found = {row["month"]: row for row in rows}
    months = [
        {
            "month": month,
            "count": found[month]["count"] if month in found else 0,
            "amount": _money(found[month]["amount"] if month in found else None),
            # The month's days inside the period: the first and last months may be cut by it.
            "drill": _loan_list_drill(
                scope,
                disbursed_from=max(month, scope.date_from),
                disbursed_to=min(add_months(month, 1) - timedelta(days=1), scope.date_to),
            ),
        }
        for month in _months(scope.date_from, scope.date_to)
    ]
    return {
        "months": months,
        "count": sum(row["count"] for row in months),
        "amount": _money(sum((row["amount"] for row in months), ZERO)),
        "drill": _loan_list_drill(scope, disbursed_from=scope.date_from, disbursed_to=scope.date_to),
    }


def outstanding(scope: Scope) -> dict:
    """The principal still owed on open loans today (active or overdue), and how many loans that is."""
    statuses = (LoanStatus.ACTIVE, LoanStatus.OVERDUE)
    totals = _open_loans(scope).aggregate(
        count=Count("pk"),
        amount=Sum("outstanding_principal"),
        **{f"count_{status}": Count("pk", filter=Q(status=status)) for status in statuses},
        **{f"amount_{status}": Sum("outstanding_principal", filter=Q(status=status)) for status in statuses},
    )
    return {
        "count": totals["count"],
        "amount": _money(totals["amount"]),
        "drill": _loan_list_drill(scope, status=STATUS_OPEN),
        "by_status": [
            {
                "status": status.value,
                "label": status.label,
                "count": totals[f"count_{status}"],
                "amount": _money(totals[f"amount_{status}"]),
                "drill": _loan_list_drill(scope, status=status.value),
            }
            for status in statuses
        ],
    }


def _overdue_loans(scope: Scope) -> QuerySet[Loan]:
    """Overdue loans in scope, each with `overdue_amount`: what fell due before the business date and is unpaid,
    penalty included (postloan.selectors.overdue_list, the overdue page's own rule)."""
    return scope.rows(
        overdue_list(user=scope.user),
        branch="branch",
        product="product",
        officer="officer",
    )


def overdue_by_bucket(scope: Scope) -> dict:
    """Per aging bucket, how many loans are overdue today and how much of what they owe is past due."""
    rows = _overdue_loans(scope).order_by().values("bucket").annotate(count=Count("pk"), amount=Sum("overdue_amount"))
    found = {row["bucket"]: row for row in rows}
    buckets = [
        {
            "bucket": value,
            "label": label,
            "count": found[value]["count"] if value in found else 0,
            "amount": _money(found[value]["amount"] if value in found else None),
            "drill": _overdue_drill(scope, bucket=value),
        }
        for value, label in Bucket.choices
        if value != Bucket.CURRENT
    ]
    return {
        "buckets": buckets,
        "count": sum(row["count"] for row in buckets),
        "amount": _money(sum((row["amount"] for row in buckets), ZERO)),
        "drill": _overdue_drill(scope),
    }


def classification(scope: Scope) -> dict:
    """How many open loans are in each of the five categories (五级分类) and their outstanding principal."""
    rows = _open_loans(scope).values("classification").annotate(count=Count("pk"), amount=Sum("outstanding_principal"))
    found = {row["classification"]: row for row in rows}
    categories = [
        {
            "classification": value,
            "label": label,
            "count": found[value]["count"] if value in found else 0,
            "amount": _money(found[value]["amount"] if value in found else None),
            # Open loans only, as counted here: a paid-off loan keeps its last class.
            "drill": _loan_list_drill(scope, status=STATUS_OPEN, classification=value),
        }
        for value, label in Classification.choices
    ]
    return {
        "categories": categories,
        "count": sum(row["count"] for row in categories),
        "amount": _money(sum((row["amount"] for row in categories), ZERO)),
    }


def npl_ratio(scope: Scope) -> dict:
    """Non-performing loans (不良: substandard, doubtful and loss) as a percentage of the principal outstanding."""
    totals = _open_loans(scope).aggregate(
        outstanding=Sum("outstanding_principal"),
        npl=Sum("outstanding_principal", filter=Q(classification__in=NPL_CLASSES)),
        npl_count=Count("pk", filter=Q(classification__in=NPL_CLASSES)),
    )
    total, npl = _money(totals["outstanding"]), _money(totals["npl"])
    return {
        "npl_amount": npl,
        "npl_count": totals["npl_count"],
        "outstanding": total,
        "ratio": percent(npl, total),
        "drill": _loan_list_drill(scope, status=STATUS_OPEN, classification=CLASSIFICATION_NPL),
    }


def top_overdue(scope: Scope, limit: int = TOP_OVERDUE) -> dict:
    """The overdue loans that owe the most past-due money today, largest first."""
    rows = (
        _overdue_loans(scope)
        .order_by("-overdue_amount", "-dpd", "pk")
        .values("pk", "number", "borrower__name", "dpd", "bucket", "overdue_amount")[:limit]
    )
    labels = dict(Bucket.choices)
    return {
        "loans": [
            {
                "number": row["number"],
                "borrower": row["borrower__name"],
                "dpd": row["dpd"],
                "bucket": row["bucket"],
                "bucket_label": labels[row["bucket"]],
                "amount": _money(row["overdue_amount"]),
                "drill": drill("postloan:detail", row["pk"]),
            }
            for row in rows
        ]
    }


# --- roll rates -------------------------------------------------------------------------------------------------------
ROLL_MONTHS = 6  # month-end pairs shown, the latest ones of the period
PAID_OFF, WRITTEN_OFF = LoanStatus.PAID_OFF.value, LoanStatus.WRITTEN_OFF.value
FORWARD, STAYED, IMPROVED, CURED = "forward", "stayed", "improved", "cured"
MOVES = (FORWARD, STAYED, IMPROVED, CURED)
_BUCKET_RANK = {value: rank for rank, value in enumerate(Bucket.values)}


def _month_ends(start: date, end: date) -> list[date]:
    """The last days of the months that end inside the period, oldest first."""
    last_days = (add_months(month, 1) - timedelta(days=1) for month in _months(start, end))
    return [day for day in last_days if start <= day <= end]


def _previous_month_end(month_end: date) -> date:
    return month_end.replace(day=1) - timedelta(days=1)


def _move(from_bucket: str, to_state: str) -> str:
    """How a loan in `from_bucket` at one month end stands at the next: rolled forward to a worse bucket (or written
    off), stayed, improved to a better bucket still overdue, or cured (current again, or paid off)."""
    if to_state == WRITTEN_OFF:
        return FORWARD
    if to_state == PAID_OFF:
        return CURED
    if to_state == from_bucket:
        return STAYED
    if to_state == Bucket.CURRENT:
        return CURED
    return FORWARD if _BUCKET_RANK[to_state] > _BUCKET_RANK[from_bucket] else IMPROVED


def _roll_transitions(scope: Scope, pairs: list[tuple[date, date]]) -> list[dict]:
    """One grouped query: per earlier month end, bucket then and state at the next month end, how many loans of the
    scope and their outstanding principal at the earlier month end.

    A self-join of the snapshots: each row of an earlier month end with the same loan's row of the next month end
    (LEFT JOIN on the loan and that month end, through the unique (loan, month_end) index). The scope's branch,
    product and officer are the loans' at the earlier month end. A loan without a row a month later had closed:
    written off if that is its status, else paid off. A pair whose later month end has no snapshot at all (the
    sweep has not taken it) is left out, rather than counting every loan as paid off.
    """
    snapshots = LoanMonthEnd.objects.all()
    taken = Q()
    for earlier, later in pairs:
        taken |= Q(month_end=earlier) & Q(Exists(snapshots.filter(month_end=later)))
    next_end = Case(*[When(month_end=earlier, then=Value(later)) for earlier, later in pairs], output_field=DateField())
    rows = (
        scope.rows(snapshots, branch="branch", product="product", officer="officer")
        .filter(taken)
        .annotate(next_end=next_end)
        .annotate(later=FilteredRelation("loan__month_ends", condition=Q(loan__month_ends__month_end=F("next_end"))))
        .order_by()
        .values("month_end", "bucket", "later__bucket", "loan__status")
        .annotate(count=Count("pk"), amount=Sum("outstanding_principal"))
    )
    found: dict[tuple, dict] = {}
    for row in rows:
        closed_as = WRITTEN_OFF if row["loan__status"] == WRITTEN_OFF else PAID_OFF
        key = (row["month_end"], row["bucket"], row["later__bucket"] or closed_as)
        total = found.setdefault(key, {"count": 0, "amount": ZERO})
        total["count"] += row["count"]
        total["amount"] += row["amount"] or ZERO
    return [
        {"month_end": month_end, "bucket": bucket, "to_state": to_state, **total}
        for (month_end, bucket, to_state), total in found.items()
    ]


def _roll_row(bucket: str, label: str, found: dict[str, dict]) -> dict:
    count = sum(row["count"] for row in found.values())
    amount = _money(sum((row["amount"] for row in found.values()), ZERO))
    moves = {}
    for move in MOVES:
        moved = [row for to_state, row in found.items() if _move(bucket, to_state) == move]
        moved_count = sum(row["count"] for row in moved)
        moved_amount = _money(sum((row["amount"] for row in moved), ZERO))
        moves[move] = {
            "move": move,
            "count": moved_count,
            "amount": moved_amount,
            "percent": percent(moved_count, count),
            "amount_percent": percent(moved_amount, amount),
        }
    return {
        "bucket": bucket,
        "label": label,
        "count": count,
        "amount": amount,
        **moves,
        "moves": [moves[move] for move in MOVES],  # the table's columns, in order
        "to": [
            {
                "state": state,
                "count": found[state]["count"] if state in found else 0,
                "amount": _money(found[state]["amount"] if state in found else None),
            }
            for state, _label in _to_states()
        ],
    }


def _to_states() -> list[tuple[str, str]]:
    return [*Bucket.choices, (PAID_OFF, LoanStatus.PAID_OFF.label), (WRITTEN_OFF, LoanStatus.WRITTEN_OFF.label)]


def roll_rates(scope: Scope, months: int = ROLL_MONTHS) -> dict:
    """Roll rates between aging buckets for the last `months` month ends of the period: of the open loans in each
    bucket at the month end before, the share (by count and by outstanding principal) that rolled forward to a worse
    bucket (or were written off), stayed, improved to a better bucket still overdue, or were cured (current again,
    or paid off) one month later. One query, whatever the number of loans.

    Each month is labelled by its later month end ("2026-02": from 31 Jan to 28 Feb); `available` is False when no
    snapshot pair of the scope's loans exists for it (the sweep had not run, or the scope had no open loans).
    """
    pairs = [(_previous_month_end(end), end) for end in _month_ends(scope.date_from, scope.date_to)[-months:]]
    found: dict[date, dict[str, dict[str, dict]]] = {}
    for row in _roll_transitions(scope, pairs) if pairs else []:
        found.setdefault(row["month_end"], {}).setdefault(row["bucket"], {})[row["to_state"]] = row
    table = []
    for earlier, later in pairs:
        by_bucket = found.get(earlier, {})
        table.append(
            {
                "month_end": later,
                "previous": earlier,
                "label": later.strftime("%Y-%m"),
                "available": bool(by_bucket),
                "rows": [_roll_row(value, label, by_bucket.get(value, {})) for value, label in Bucket.choices],
            }
        )
    available = [month for month in table if month["available"]]
    return {
        "months": table,
        "latest": available[-1] if available else None,
        "to_states": [{"state": state, "label": label} for state, label in _to_states()],
    }
