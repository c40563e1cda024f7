"""Service KPIs (issue 8): borrowers' inquiries against their reply targets, satisfaction (CSAT) by officer and by
channel, and the repayment reminder messages sent, failed or cancelled.

Each function takes a `Scope` and runs a small constant number of aggregate queries (see `dashboard.kpis.followups`
for the median helper and its SQLite limit).
"""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from accounts.permissions import sees_all_branches
from followups.models import Inquiry, InquiryCategory, InquiryStatus, SatisfactionSurvey
from notifications.models import OutboxMessage
from postloan.models import Loan
from postloan.reminders import TEMPLATE as REMINDER_TEMPLATE

from ..scope import Scope
from .followups import median_by, person_fields, person_name
from .links import drill, scope_params
from .stats import hours, one_decimal
from .stats import percent as pct

RATINGS = (1, 2, 3, 4, 5)


def inquiries_in(scope: Scope) -> QuerySet[Inquiry]:
    """The inquiries of the scope's branches assigned to the chosen officer; with a product chosen, only those about
    an application or a loan of that product (a general question has no product)."""
    queryset = scope.rows(Inquiry.objects.all(), officer="assignee")
    if scope.product_id is not None:
        queryset = queryset.filter(Q(application__product_id=scope.product_id) | Q(loan__product_id=scope.product_id))
    return queryset


def _inquiry_drill(scope: Scope, **filters) -> str:
    """The inbox, every status, of the inquiries asked in the period, with the dashboard's branch, officer (the
    assignee) and product."""
    return drill(
        "followups:inquiries",
        **filters,
        status="all",
        asked_from=scope.date_from,
        asked_to=scope.date_to,
        **scope_params(scope, officer="assignee"),
    )


def _minutes_as_hours(minutes) -> Decimal | None:
    return None if minutes is None else hours(timedelta(minutes=float(minutes)))


def inquiries(scope: Scope) -> dict:
    """Inquiries asked in the period by category: how many, answered, median reply time in working hours, share
    answered within the promised time, and the breach rate (answered late, or still waiting after the due time)."""
    now = timezone.now()
    asked = scope.in_period(inquiries_in(scope), "created_at")
    answered = Q(status=InquiryStatus.ANSWERED)
    in_time = answered & Q(answered_at__lte=F("due_at"))
    breached = (answered & Q(answered_at__gt=F("due_at"))) | Q(status=InquiryStatus.OPEN, due_at__lt=now)
    counts = {
        row["category"]: row
        for row in asked.order_by()
        .values("category")
        .annotate(
            count=Count("pk"),
            answered=Count("pk", filter=answered),
            in_time=Count("pk", filter=in_time),
            breached=Count("pk", filter=breached),
        )
    }
    replied = asked.filter(answered, response_minutes__isnull=False)
    medians = median_by(replied, "category", "response_minutes")
    overall = median_by(replied, None, "response_minutes").get(None)
    figures = ("count", "answered", "in_time", "breached")
    table = []
    for category, label in InquiryCategory.choices:
        row = {name: counts.get(category, {}).get(name, 0) for name in figures}
        table.append(
            {"category": category, "label": label}
            | row
            | {
                "median_response_hours": _minutes_as_hours(medians.get(category)),
                "in_time_pct": pct(row["in_time"], row["answered"]),
                "breach_pct": pct(row["breached"], row["count"]),
                "drill": _inquiry_drill(scope, category=category),
                "breach_drill": _inquiry_drill(scope, category=category, late="1"),
            }
        )
    total = {name: sum(row[name] for row in table) for name in figures}
    total |= {
        "median_response_hours": _minutes_as_hours(overall),
        "in_time_pct": pct(total["in_time"], total["answered"]),
        "breach_pct": pct(total["breached"], total["count"]),
    }
    return {
        "rows": table,
        "total": total,
        "drill": _inquiry_drill(scope),
        "breach_drill": _inquiry_drill(scope, late="1"),
    }


def _average(distribution: dict[int, int]) -> Decimal | None:
    count = sum(distribution.values())
    if not count:
        return None
    total = sum(rating * found for rating, found in distribution.items())
    return one_decimal(Decimal(total) / Decimal(count))


def _csat(distribution: dict[int, int]) -> dict:
    count = sum(distribution.values())
    return {
        "count": count,
        "average": _average(distribution),
        "distribution": [
            {"rating": rating, "count": distribution.get(rating, 0), "pct": pct(distribution.get(rating, 0), count)}
            for rating in RATINGS
        ],
    }


def satisfaction(scope: Scope) -> dict:
    """Borrowers' 1–5 ratings given in the period: the average (CSAT) and how many gave each rating, overall, by
    officer and by channel. The product filter does not apply (a rating is about a person, not a product)."""
    officer_fields = person_fields("officer")
    rows = (
        scope.in_period(scope.rows(SatisfactionSurvey.objects.all(), officer="officer"), "created_at")
        .order_by()
        .values("officer_id", *officer_fields, "channel", "rating")
        .annotate(count=Count("pk"))
    )
    overall: dict[int, int] = {}
    by_officer: dict[int, dict] = {}
    by_channel: dict[str, dict[int, int]] = {}
    for row in rows:
        rating, count = row["rating"], row["count"]
        overall[rating] = overall.get(rating, 0) + count
        officer = by_officer.setdefault(
            row["officer_id"], {"name": person_name(*(row[field] for field in officer_fields)), "ratings": {}}
        )
        officer["ratings"][rating] = officer["ratings"].get(rating, 0) + count
        channel = by_channel.setdefault(row["channel"], {})
        channel[rating] = channel.get(rating, 0) + count
    officers = [
        {"officer_id": officer_id, "officer": found["name"]} | _csat(found["ratings"])
        for officer_id, found in by_officer.items()
    ]
    officers.sort(key=lambda row: (row["officer"], row["officer_id"]))
    channels = [
        {"channel": channel, "label": label} | _csat(by_channel.get(channel, {}))
        for channel, label in SatisfactionSurvey.Channel.choices
    ]
    return _csat(overall) | {"by_officer": officers, "by_channel": channels}


def _narrows(scope: Scope) -> bool:
    """Whether the scope leaves out some loans (a branch, a product or an officer), or sees them all."""
    return not sees_all_branches(scope.user) or any(
        value is not None for value in (scope.branch_id, scope.product_id, scope.officer_id)
    )


def reminders(scope: Scope) -> dict:
    """Repayment reminder messages (SMS and email) queued in the period, by what became of them: sent, failed,
    cancelled (no longer needed, e.g. paid meanwhile) or still waiting.

    An outbox row has no branch; a reminder names its loan in its context ("number", written by
    postloan.reminders), and that loan's branch, product and officer scope it. Head office without filters counts
    every reminder without the join."""
    messages = scope.in_period(OutboxMessage.objects.filter(template=REMINDER_TEMPLATE), "created_at")
    if _narrows(scope):
        loans = scope.rows(Loan.objects.all(), product="product", officer="officer")
        messages = messages.annotate(loan_number=KeyTextTransform("number", "context")).filter(
            Exists(loans.filter(number=OuterRef("loan_number")))
        )
    Status, Channel = OutboxMessage.Status, OutboxMessage.Channel
    counts = {
        (row["status"], row["channel"]): row["count"]
        for row in messages.order_by().values("status", "channel").annotate(count=Count("pk"))
    }
    waiting = (Status.PENDING, Status.SENDING)

    def total(statuses, channels=Channel.values) -> int:
        return sum(counts.get((status, channel), 0) for status in statuses for channel in channels)

    rows = [
        {
            "status": status,
            "label": label,
            "count": total([status]),
            "drill": drill("notifications:outbox", status=status, q=REMINDER_TEMPLATE),
        }
        for status, label in Status.choices
    ]
    by_channel = [
        {
            "channel": channel,
            "label": label,
            "sent": total([Status.SENT], [channel]),
            "failed": total([Status.FAILED], [channel]),
            "cancelled": total([Status.CANCELLED], [channel]),
            "waiting": total(waiting, [channel]),
        }
        for channel, label in Channel.choices
    ]
    all_messages = total(Status.values)
    return {
        "sent": total([Status.SENT]),
        "failed": total([Status.FAILED]),
        "cancelled": total([Status.CANCELLED]),
        "waiting": total(waiting),
        "total": all_messages,
        "failed_pct": pct(total([Status.FAILED]), all_messages),
        "rows": rows,
        "by_channel": by_channel,
    }
