"""Follow-up KPIs (issue 8): planned against completed on time by kind, late follow-ups by officer, risk warnings and
the time to acknowledge them, and the risk levels the completed follow-ups found.

Every function takes a `Scope` and runs a small constant number of aggregate queries, whatever the number of rows.
Medians: PostgreSQL computes them in SQL (`percentile_cont`); on SQLite (tests, `make run`) they are computed in
Python (`dashboard.kpis.stats.percentile`) from one `values_list` of the values per group — a known limit acceptable
for a development database (see `median_by`). The helpers at the top (`median_by`, `person_name`, `drill`) are shared
with the service and workload KPIs; percentages and hours come from `dashboard.kpis.stats`.
"""

from collections import defaultdict

from django.db import connections
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Min,
    Q,
    QuerySet,
)
from django.db.models.functions import TruncDate

from core.dates import SHANGHAI, local_today
from followups.models import FollowUp, FollowUpKind, FollowUpStatus, RiskWarning, WarningStatus
from followups.models.followups import OPEN_FOLLOWUP_STATUSES, RiskLevel

from ..scope import Scope
from .links import drill, scope_params
from .stats import PercentileCont, hours, percentile
from .stats import percent as pct

# A record done and handed in (waiting for review or approved); a returned one is back on the officer's list.
DONE_STATUSES = (FollowUpStatus.COMPLETED, FollowUpStatus.APPROVED)
# The order of the kinds on the dashboard: the plan's kinds as a loan lives them, then the others.
KIND_ORDER = (
    FollowUpKind.FIRST,
    FollowUpKind.SECOND,
    FollowUpKind.PRE_MATURITY,
    FollowUpKind.QUARTERLY,
    FollowUpKind.OVERDUE_CALL,
    FollowUpKind.EXTRA,
    FollowUpKind.VERIFICATION_CALL,
    FollowUpKind.CONSULTATION,
)


# --- shared helpers -------------------------------------------------------------------------------------------------
def person_name(display_name: str, first_name: str, last_name: str, username: str) -> str:
    """A user's name as `User.__str__` writes it, from the values of a grouped query."""
    return display_name or f"{first_name} {last_name}".strip() or username


def person_fields(path: str) -> tuple[str, ...]:
    """The fields `person_name` needs, under a relation path such as "officer"."""
    return tuple(f"{path}__{field}" for field in ("display_name", "first_name", "last_name", "username"))


def median_by(queryset: QuerySet, group: str | None, value, *, output_field=None) -> dict:
    """{group value: median of `value`} over the rows of `queryset`, or {None: median} with group=None.

    On PostgreSQL one grouped query with `percentile_cont(0.5)`; elsewhere (SQLite) one `values_list` of the values,
    the median taken in Python: its memory grows with the rows, acceptable for the development database only.
    `value` is a field name or an expression; durations come back as timedelta, numbers as a float (PostgreSQL) or a
    Decimal (Python): pass them through float() before use.
    """
    output_field = output_field or FloatField()
    queryset = queryset.order_by()
    if connections[queryset.db].vendor == "postgresql":
        median = PercentileCont(value, 0.5, output_field=output_field)
        if group is None:
            return {None: queryset.aggregate(median=median)["median"]}
        return dict(queryset.values(group).annotate(median=median).values_list(group, "median"))
    expression = ExpressionWrapper(F(value) if isinstance(value, str) else value, output_field=output_field)
    rows = queryset.annotate(_value=expression)
    if group is None:
        found = [item for item in rows.values_list("_value", flat=True) if item is not None]
        return {None: percentile(found, 0.5)}
    values: dict = defaultdict(list)
    for key, found in rows.values_list(group, "_value"):
        if found is not None:
            values[key].append(found)
    return {key: percentile(found, 0.5) for key, found in values.items()}


# --- the scoped querysets -------------------------------------------------------------------------------------------
def followups_in(scope: Scope) -> QuerySet[FollowUp]:
    """The follow-ups of the scope's branches, for the chosen officer and product (a loan's, or before the loan an
    application's product)."""
    queryset = scope.rows(FollowUp.objects.all(), officer="officer")
    if scope.product_id is not None:
        queryset = queryset.filter(Q(loan__product_id=scope.product_id) | Q(application__product_id=scope.product_id))
    return queryset


def warnings_in(scope: Scope) -> QuerySet[RiskWarning]:
    """The risk warnings of the scope's branches, on loans of the chosen product and officer."""
    return scope.rows(RiskWarning.objects.all(), product="loan__product", officer="loan__officer")


# --- the KPIs -------------------------------------------------------------------------------------------------------
def completion_by_kind(scope: Scope) -> dict:
    """Follow-ups due in the period by kind: how many were planned, done by their due date, done late, still open."""
    on_or_before_due = Q(completed_at__isnull=False) & Q(done_day__lte=F("due_on"))
    done = Q(status__in=DONE_STATUSES)
    rows = (
        scope.days_in_period(followups_in(scope), "due_on")
        .exclude(status=FollowUpStatus.CANCELLED)
        .annotate(done_day=TruncDate("completed_at", tzinfo=SHANGHAI))
        .order_by()
        .values("kind")
        .annotate(
            planned=Count("pk"),
            on_time=Count("pk", filter=done & on_or_before_due),
            late=Count("pk", filter=done & ~on_or_before_due),
            open=Count("pk", filter=Q(status__in=OPEN_FOLLOWUP_STATUSES)),
        )
    )
    found = {row["kind"]: row for row in rows}
    labels = dict(FollowUpKind.choices)
    figures = ("planned", "on_time", "late", "open")
    table = []
    for kind in KIND_ORDER:
        row = found.get(kind.value, {})
        entry = {"kind": kind.value, "label": labels[kind.value]} | {name: row.get(name, 0) for name in figures}
        entry["on_time_pct"] = pct(entry["on_time"], entry["planned"])
        table.append(entry)
    total = {name: sum(row[name] for row in table) for name in figures}
    total["on_time_pct"] = pct(total["on_time"], total["planned"])
    # No list shows the follow-ups due in a period by kind: the team page (its late ones) is the nearest.
    return {"rows": table, "total": total, "drill": drill("followups:team", **scope_params(scope))}


def late_by_officer(scope: Scope) -> dict:
    """Officers with follow-ups still open after their due date (as of today), the most late first."""
    today = local_today()
    rows = (
        followups_in(scope)
        .filter(status__in=OPEN_FOLLOWUP_STATUSES, due_on__lt=today)
        .order_by()
        .values("officer_id", *person_fields("officer"))
        .annotate(late=Count("pk"), oldest_due=Min("due_on"))
    )
    table = [
        {
            "officer_id": row["officer_id"],
            "officer": person_name(*(row[field] for field in person_fields("officer"))),
            "late": row["late"],
            "oldest_due": row["oldest_due"],
            "days_late": (today - row["oldest_due"]).days,
            "drill": drill("followups:team", **(scope_params(scope) | {"officer": row["officer_id"]})),
        }
        for row in rows
    ]
    table.sort(key=lambda row: (-row["late"], row["officer"], row["officer_id"]))
    return {
        "rows": table,
        "total": sum(row["late"] for row in table),
        "today": today,
        "drill": drill("followups:team", **scope_params(scope)),
    }


def warnings(scope: Scope) -> dict:
    """Risk warnings by level: opened, acknowledged and resolved in the period, and the median hours to acknowledge."""
    scoped = warnings_in(scope)
    opened = Q(opened_at__gte=scope.start, opened_at__lt=scope.end)
    acknowledged = Q(acknowledged_at__gte=scope.start, acknowledged_at__lt=scope.end)
    resolved = Q(resolved_at__gte=scope.start, resolved_at__lt=scope.end)
    counts = {
        row["level"]: row
        for row in scoped.filter(opened | acknowledged | resolved)
        .order_by()
        .values("level")
        .annotate(
            opened=Count("pk", filter=opened),
            acknowledged=Count("pk", filter=acknowledged),
            resolved=Count("pk", filter=resolved),
        )
    }
    # Time to acknowledge, for the warnings acknowledged in the period.
    acked = scope.in_period(scoped, "acknowledged_at")
    wait = ExpressionWrapper(F("acknowledged_at") - F("opened_at"), output_field=DurationField())
    medians = median_by(acked, "level", wait, output_field=DurationField())
    overall = median_by(acked, None, wait, output_field=DurationField()).get(None)
    figures = ("opened", "acknowledged", "resolved")
    table = []
    for level, label in RiskLevel.choices:
        row = counts.get(level, {})
        table.append(
            {"level": level, "label": label}
            | {name: row.get(name, 0) for name in figures}
            | {"median_hours_to_acknowledge": hours(medians.get(level))}
        )
    total = {name: sum(row[name] for row in table) for name in figures}
    total["median_hours_to_acknowledge"] = hours(overall)
    return {
        "rows": table,
        "total": total,
        "drill": drill("followups:warnings", **scope_params(scope)),
        "open_drill": drill("followups:warnings", status="open", **scope_params(scope)),
        "breached_drill": drill("followups:warnings", status="breached", **scope_params(scope)),
        "still_open": scoped.filter(status=WarningStatus.OPEN).count(),
    }


def risk_levels(scope: Scope) -> dict:
    """Follow-ups completed in the period by the overall risk level the officer found (low, medium, high)."""
    rows = dict(
        scope.in_period(followups_in(scope), "completed_at")
        .filter(status__in=DONE_STATUSES)
        .order_by()
        .values("risk_level")
        .annotate(count=Count("pk"))
        .values_list("risk_level", "count")
    )
    total = sum(rows.values())
    table = [
        {"level": level, "label": label, "count": rows.get(level, 0), "pct": pct(rows.get(level, 0), total)}
        for level, label in RiskLevel.choices
    ]
    # Records without a level (a questionnaire answered online is not assessed by an officer).
    not_assessed = rows.get("", 0)
    return {"rows": table, "not_assessed": not_assessed, "total": total}
