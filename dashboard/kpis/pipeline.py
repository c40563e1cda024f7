"""Pipeline KPIs: where applications stand, how a month's submissions turn out, decisions, time and SLA per stage.

Each function takes a `dashboard.scope.Scope` and returns a dict; each runs a fixed number of aggregate queries
whatever the number of applications (tests/dashboard/test_pipeline_kpis.py counts them). Stage times and SLA
breaches come from the applications' timeline (STATUS events): a stage is left by a decision event, and it was
entered by the latest event that moved the application into the stage before that decision.
"""

from collections import Counter, defaultdict

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from applications.models import Application, ApplicationEvent, ApplicationStatus, RejectionReason, Review

from ..scope import Scope
from .links import drill, scope_params
from .stats import grouped_duration_percentiles, hours, percent

S = ApplicationStatus
STATUS = ApplicationEvent.Kind.STATUS
TOP_REASONS = 5

# The stages a decision event leaves: (key, label, statuses it leaves from, statuses it goes to).
INITIAL, SECONDARY, CONTRACT, DISBURSEMENT = "initial", "secondary", "contract", "disbursement"
STAGES = (
    (
        INITIAL,
        Review.Stage.INITIAL.label,
        (S.SUBMITTED, S.INITIAL_REVIEW),
        (S.SECONDARY_REVIEW, S.RETURNED, S.REJECTED),
    ),
    (SECONDARY, Review.Stage.SECONDARY.label, (S.SECONDARY_REVIEW,), (S.APPROVED, S.RETURNED, S.REJECTED)),
    (CONTRACT, _("Contract signing"), (S.APPROVED,), (S.CONTRACTED,)),
    (DISBURSEMENT, _("Disbursement"), (S.CONTRACTED,), (S.DISBURSED,)),
)
# Stages with a review target: the transition records data["sla_breached"] when it leaves them.
SLA_STAGES = (INITIAL, SECONDARY)


def _application_drill(scope: Scope, **filters) -> str:
    """The application list (the whole branch, not an officer's own) with the dashboard's branch, product and officer
    carried over to its own filters."""
    return drill("applications:list", show="branch", **filters, **scope_params(scope))


def _applications(scope: Scope) -> QuerySet[Application]:
    return scope.rows(Application.objects.all(), branch="branch", product="product", officer="officer")


def _status_events(scope: Scope) -> QuerySet[ApplicationEvent]:
    events = ApplicationEvent.objects.filter(kind=STATUS)
    return scope.rows(
        events, branch="application__branch", product="application__product", officer="application__officer"
    )


def status_counts(scope: Scope) -> dict:
    """How many applications are in each status right now (not limited to the period)."""
    found = dict(_applications(scope).order_by().values_list("status").annotate(n=Count("pk")))
    rows = [
        {
            "status": value,
            "label": label,
            "count": found.get(value, 0),
            "drill": _application_drill(scope, status=value),
        }
        for value, label in ApplicationStatus.choices
    ]
    return {"rows": rows, "total": sum(row["count"] for row in rows)}


def _reached(status: str) -> Q:
    """The application has ever moved into `status` (its timeline, read through the (application, created_at)
    index)."""
    return Q(Exists(ApplicationEvent.objects.filter(application=OuterRef("pk"), kind=STATUS, to_status=status)))


def funnel(scope: Scope) -> dict:
    """Of the applications submitted in the period: how many passed initial review, were approved and disbursed.

    The cohort is by `submitted_at` (the latest submission: an application returned and submitted again belongs to
    the period of its last submission); the later steps count whenever they happened, also after the period.
    """
    totals = scope.in_period(_applications(scope), "submitted_at").aggregate(
        submitted=Count("pk"),
        passed=Count("pk", filter=_reached(S.SECONDARY_REVIEW)),
        approved=Count("pk", filter=_reached(S.APPROVED)),
        disbursed=Count("pk", filter=_reached(S.DISBURSED)),
    )
    submitted = totals["submitted"]
    steps = (
        ("submitted", _("Submitted applications")),
        ("passed", _("Passed initial review")),
        ("approved", S.APPROVED.label),
        ("disbursed", S.DISBURSED.label),
    )
    # The cohort opens in the application list by submission date; the later steps ("ever reached") have no list.
    cohort = _application_drill(scope, submitted_from=scope.date_from, submitted_to=scope.date_to)
    rows = [
        {
            "step": key,
            "label": label,
            "count": totals[key],
            "percent": percent(totals[key], submitted),
            "drill": cohort if key == "submitted" else "",
        }
        for key, label in steps
    ]
    return {"rows": rows, "submitted": submitted, "drill": cohort}


def decisions(scope: Scope) -> dict:
    """Of the applications approved or rejected in the period: the approval and rejection rates (拒贷率) and the
    most frequent rejection reasons (an application may give several)."""
    events = scope.in_period(_status_events(scope), "created_at").filter(to_status__in=(S.APPROVED, S.REJECTED))
    rejected = Q(to_status=S.REJECTED)
    # rejection_codes is a JSON list of RejectionReason values; a quoted code matches one element exactly.
    totals = events.aggregate(
        approved=Count("pk", filter=Q(to_status=S.APPROVED)),
        rejected=Count("pk", filter=rejected),
        **{
            f"reason_{code}": Count("pk", filter=rejected & Q(application__rejection_codes__icontains=f'"{code}"'))
            for code in RejectionReason.values
        },
    )
    decided = totals["approved"] + totals["rejected"]
    reasons = [
        {
            "code": code,
            "label": label,
            "count": totals[f"reason_{code}"],
            "percent": percent(totals[f"reason_{code}"], totals["rejected"]),
        }
        for code, label in RejectionReason.choices
        if totals[f"reason_{code}"]
    ]
    reasons.sort(key=lambda row: -row["count"])  # stable: ties keep the reasons' own order
    return {
        "decided": decided,
        "approved": totals["approved"],
        "rejected": totals["rejected"],
        "approval_rate": percent(totals["approved"], decided),
        "rejection_rate": percent(totals["rejected"], decided),
        "top_reasons": reasons[:TOP_REASONS],
        "approved_drill": _application_drill(scope, status=S.APPROVED),
        "rejected_drill": _application_drill(scope, status=S.REJECTED),
    }


def _stage_exits(scope: Scope, *, with_duration: bool = True) -> QuerySet[ApplicationEvent]:
    """STATUS events in the period that leave a stage, each with its `stage` and (unless told) the `duration` since
    the stage was entered."""
    conditions = [
        (key, Q(from_status__in=from_statuses, to_status__in=to_statuses))
        for key, _label, from_statuses, to_statuses in STAGES
    ]
    exits = Q()
    for _key, condition in conditions:
        exits |= condition
    queryset = (
        scope.in_period(_status_events(scope), "created_at")
        .filter(exits)
        .annotate(
            stage=Case(*[When(condition, then=Value(key)) for key, condition in conditions], output_field=CharField())
        )
    )
    if not with_duration:
        return queryset
    # The stage was entered by the latest event into its first status: initial review starts at submission, even
    # when a reviewer took the application (submitted → initial_review) before deciding.
    entry_status = Case(
        When(from_status=S.INITIAL_REVIEW, then=Value(S.SUBMITTED.value)),
        default=F("from_status"),
        output_field=CharField(),
    )
    entered = (
        ApplicationEvent.objects.filter(
            application=OuterRef("application"),
            kind=STATUS,
            to_status=OuterRef("entry_status"),
            created_at__lte=OuterRef("created_at"),
        )
        .order_by("-created_at", "-pk")
        .values("created_at")[:1]
    )
    return queryset.annotate(entry_status=entry_status).annotate(duration=F("created_at") - Subquery(entered))


def stage_times(scope: Scope) -> dict:
    """Per stage, the median and 90th percentile of hours an application spent in it, over the applications that
    left the stage in the period (initial review from submission to pass, return or rejection; secondary review to
    approval, return or rejection; approval to signed contract; signed contract to disbursement)."""
    found = grouped_duration_percentiles(_stage_exits(scope), group="stage", duration="duration", fractions=(0.5, 0.9))
    rows = []
    for key, label, _from, _to in STAGES:
        count, (median, p90) = found.get(key, (0, (None, None)))
        rows.append(
            {"stage": key, "label": label, "count": count, "median_hours": hours(median), "p90_hours": hours(p90)}
        )
    return {"rows": rows}


def sla_breaches(scope: Scope) -> dict:
    """Per review stage, how many applications left it in the period past their review target (SLA), out of all
    that left it; and per reviewer (who made the decision), the same two counts."""
    rows = list(
        _stage_exits(scope, with_duration=False)
        .filter(stage__in=SLA_STAGES)
        .order_by()
        .values("stage", "actor_id", "actor__username", "actor__display_name", "actor__first_name", "actor__last_name")
        .annotate(exits=Count("pk"), breached=Count("pk", filter=Q(data__sla_breached=True)))
    )
    # One aggregate query by (stage, reviewer); the few rows it returns are summed both ways here.
    by_stage: dict[str, Counter] = defaultdict(Counter)
    by_reviewer: dict[int | None, Counter] = defaultdict(Counter)
    names = {}
    for row in rows:
        for totals in (by_stage[row["stage"]], by_reviewer[row["actor_id"]]):
            totals.update(exits=row["exits"], breached=row["breached"])
        names[row["actor_id"]] = (_person(row), row["actor__username"] or "")
    stages = [
        _breach_row(by_stage[key], stage=key, label=label) for key, label, _from, _to in STAGES if key in SLA_STAGES
    ]
    reviewers = [
        _breach_row(totals, reviewer_id=actor_id, name=names[actor_id][0]) for actor_id, totals in by_reviewer.items()
    ]
    reviewers.sort(key=lambda row: (-row["breached"], -row["exits"], names[row["reviewer_id"]][1]))
    return {"stages": stages, "reviewers": reviewers}


def _breach_row(totals: Counter, **keys) -> dict:
    exits, breached = totals["exits"], totals["breached"]
    return {**keys, "exits": exits, "breached": breached, "percent": percent(breached, exits)}


def _person(row: dict) -> str:
    """A user's name as User.__str__ gives it, from a values() row."""
    full_name = f"{row['actor__first_name']} {row['actor__last_name']}".strip()
    return row["actor__display_name"] or full_name or row["actor__username"] or "—"
