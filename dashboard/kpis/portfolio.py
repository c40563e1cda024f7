"""Portfolio KPIs: disbursements by month, the book outstanding, overdue by aging bucket, the five categories, the
NPL ratio and the largest overdue loans.

Each function takes a `dashboard.scope.Scope` and returns a dict; each runs one aggregate query (top_overdue: one
query for its rows) whatever the number of loans and installments. "Now" figures (outstanding, overdue,
classification, NPL) describe the open loans (active or overdue) today and ignore the period; the period applies to
disbursements. The product filter reaches a loan through the application its contract was drawn from.

Roll rates between buckets month over month are not here: they need each loan's bucket at every month end, and the
schema keeps no such snapshot (the sweep changes `Loan.bucket` in place; LoanEvent records becoming overdue and
being cured, not bucket moves).
"""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from accounts.permissions import sees_all_branches
from core.dates import add_months, local_today
from core.money import round_money
from postloan.models import OPEN_LOAN_STATUSES, Bucket, Classification, Loan, LoanStatus
from postloan.models.base import ZERO
from postloan.selectors import overdue_list

from ..scope import Scope
from .links import drill
from .stats import percent

NPL_CLASSES = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)
TOP_OVERDUE = 10


def _loan_list_drill(scope: Scope, **filters) -> str:
    """The loan list (postloan:list) with the dashboard's branch and officer carried over to its own filters."""
    branch = scope.branch_id if sees_all_branches(scope.user) else None
    return drill("postloan:list", show="branch", **filters, branch=branch, officer=scope.officer_id)


def _loans(scope: Scope) -> QuerySet[Loan]:
    return scope.rows(Loan.objects.all(), branch="branch", product="contract__application__product", officer="officer")


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
        }
        for month in _months(scope.date_from, scope.date_to)
    ]
    return {
        "months": months,
        "count": sum(row["count"] for row in months),
        "amount": _money(sum((row["amount"] for row in months), ZERO)),
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


def _overdue_loans(scope: Scope, today: date) -> QuerySet[Loan]:
    """Overdue loans in scope, each with `overdue_amount`: what fell due before today and is unpaid, penalty
    included (postloan.selectors.overdue_list, the overdue page's own rule)."""
    return scope.rows(
        overdue_list(user=scope.user, today=today),
        branch="branch",
        product="contract__application__product",
        officer="officer",
    )


def overdue_by_bucket(scope: Scope) -> dict:
    """Per aging bucket, how many loans are overdue today and how much of what they owe is past due."""
    rows = (
        _overdue_loans(scope, local_today())
        .order_by()
        .values("bucket")
        .annotate(count=Count("pk"), amount=Sum("overdue_amount"))
    )
    found = {row["bucket"]: row for row in rows}
    buckets = [
        {
            "bucket": value,
            "label": label,
            "count": found[value]["count"] if value in found else 0,
            "amount": _money(found[value]["amount"] if value in found else None),
            "drill": drill("postloan:overdue", bucket=value),
        }
        for value, label in Bucket.choices
        if value != Bucket.CURRENT
    ]
    return {
        "buckets": buckets,
        "count": sum(row["count"] for row in buckets),
        "amount": _money(sum((row["amount"] for row in buckets), ZERO)),
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
            "drill": _loan_list_drill(scope, classification=value),
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
    return {"npl_amount": npl, "npl_count": totals["npl_count"], "outstanding": total, "ratio": percent(npl, total)}


def top_overdue(scope: Scope, limit: int = TOP_OVERDUE) -> dict:
    """The overdue loans that owe the most past-due money today, largest first."""
    rows = (
        _overdue_loans(scope, local_today())
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
