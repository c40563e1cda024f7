"""The manager's dashboard: one page per tab, each built from the KPI functions of dashboard.kpis for the filter
bar's scope. Charts and their tables come from the same `Chart` objects; every figure with rows behind it links to
the list of those rows."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.permissions import action_required
from postloan.models import Bucket

from .charts import Chart, Series
from .forms import DashboardFilterForm
from .kpis import followups as followup_kpis
from .kpis import pipeline, portfolio, service, workload
from .scope import Scope

TABS = (
    ("pipeline", gettext_lazy("Pipeline")),
    ("portfolio", gettext_lazy("Portfolio")),
    ("followups", gettext_lazy("Follow-ups")),
    ("service", gettext_lazy("Service")),
    ("workload", gettext_lazy("Officer workload")),
)


def _pipeline(scope: Scope) -> dict:
    statuses = pipeline.status_counts(scope)
    funnel = pipeline.funnel(scope)
    times = pipeline.stage_times(scope)
    return {
        "statuses": statuses,
        "funnel": funnel,
        "decisions": pipeline.decisions(scope),
        "times": times,
        "sla": pipeline.sla_breaches(scope),
        "charts": [
            Chart(
                id="chart-statuses",
                title=_("Applications by status now"),
                kind="bar",
                labels=[row["label"] for row in statuses["rows"]],
                series=[Series(_("Applications"), [row["count"] for row in statuses["rows"]])],
                drills=[row["drill"] for row in statuses["rows"]],
            ),
            Chart(
                id="chart-funnel",
                title=_("Funnel of the applications submitted in the period"),
                kind="bar",
                labels=[row["label"] for row in funnel["rows"]],
                series=[
                    Series(_("Applications"), [row["count"] for row in funnel["rows"]]),
                    Series(_("Share of submitted"), [row["percent"] for row in funnel["rows"]], drawn=False),
                ],
                drills=[row["drill"] for row in funnel["rows"]],
            ),
            Chart(
                id="chart-stage-times",
                title=_("Hours per stage (median and 90th percentile)"),
                kind="bar",
                labels=[row["label"] for row in times["rows"]],
                series=[
                    Series(_("Median hours"), [row["median_hours"] for row in times["rows"]]),
                    Series(_("90th percentile hours"), [row["p90_hours"] for row in times["rows"]]),
                ],
            ),
        ],
    }


def _portfolio(scope: Scope) -> dict:
    disbursed = portfolio.disbursed_by_month(scope)
    overdue = portfolio.overdue_by_bucket(scope)
    classes = portfolio.classification(scope)
    rolls = portfolio.roll_rates(scope)
    months = [row["month"].strftime("%Y-%m") for row in disbursed["months"]]
    return {
        "rolls": rolls,
        "outstanding": portfolio.outstanding(scope),
        "overdue": overdue,
        "classes": classes,
        "npl": portfolio.npl_ratio(scope),
        "top_overdue": portfolio.top_overdue(scope),
        "disbursed": disbursed,
        "charts": [
            Chart(
                id="chart-disbursed",
                title=_("Disbursed by month"),
                kind="bar",
                labels=months,
                series=[
                    Series(_("Amount"), [row["amount"] for row in disbursed["months"]], money=True),
                    Series(_("Loans"), [row["count"] for row in disbursed["months"]], drawn=False),
                ],
                drills=[row["drill"] for row in disbursed["months"]],
            ),
            Chart(
                id="chart-overdue",
                title=_("Overdue by days past due"),
                kind="bar",
                labels=[row["label"] for row in overdue["buckets"]],
                series=[
                    Series(_("Overdue amount"), [row["amount"] for row in overdue["buckets"]], money=True),
                    Series(_("Loans"), [row["count"] for row in overdue["buckets"]], drawn=False),
                ],
                drills=[row["drill"] for row in overdue["buckets"]],
            ),
            Chart(
                id="chart-classification",
                title=_("Five-category classification (outstanding principal)"),
                kind="doughnut",
                labels=[row["label"] for row in classes["categories"]],
                series=[
                    Series(_("Outstanding principal"), [row["amount"] for row in classes["categories"]], money=True),
                    Series(_("Loans"), [row["count"] for row in classes["categories"]], drawn=False),
                ],
                drills=[row["drill"] for row in classes["categories"]],
            ),
            Chart(
                id="chart-roll-rates",
                title=_("Roll rates: share of each bucket's loans in a worse bucket one month later"),
                kind="line",
                labels=[month["label"] for month in rolls["months"]],
                series=[
                    Series(str(label), [month["rows"][index]["forward"]["percent"] for month in rolls["months"]])
                    for index, (_value, label) in enumerate(Bucket.choices)
                ],
            ),
        ],
    }


def _followups(scope: Scope) -> dict:
    completion = followup_kpis.completion_by_kind(scope)
    warnings = followup_kpis.warnings(scope)
    levels = followup_kpis.risk_levels(scope)
    return {
        "completion": completion,
        "late": followup_kpis.late_by_officer(scope),
        "warnings": warnings,
        "risk_levels": levels,
        "charts": [
            Chart(
                id="chart-completion",
                title=_("Follow-ups due in the period, by kind"),
                kind="stacked",
                labels=[row["label"] for row in completion["rows"]],
                series=[
                    Series(_("Done on time"), [row["on_time"] for row in completion["rows"]]),
                    Series(_("Done late"), [row["late"] for row in completion["rows"]]),
                    Series(_("Still open"), [row["open"] for row in completion["rows"]]),
                ],
            ),
            Chart(
                id="chart-risk-levels",
                title=_("Risk levels found by the follow-ups done in the period"),
                kind="doughnut",
                labels=[row["label"] for row in levels["rows"]],
                series=[Series(_("Follow-ups"), [row["count"] for row in levels["rows"]])],
            ),
        ],
    }


def _service(scope: Scope) -> dict:
    inquiries = service.inquiries(scope)
    satisfaction = service.satisfaction(scope)
    return {
        "inquiries": inquiries,
        "satisfaction": satisfaction,
        "reminders": service.reminders(scope),
        "charts": [
            Chart(
                id="chart-inquiries",
                title=_("Questions by category: answered in time and late"),
                kind="stacked",
                labels=[row["label"] for row in inquiries["rows"]],
                series=[
                    Series(_("Answered in time"), [row["in_time"] for row in inquiries["rows"]]),
                    Series(_("Late or waiting past the target"), [row["breached"] for row in inquiries["rows"]]),
                ],
                drills=[row["drill"] for row in inquiries["rows"]],
            ),
            Chart(
                id="chart-csat",
                title=_("Satisfaction ratings (1–5)"),
                kind="bar",
                labels=[str(row["rating"]) for row in satisfaction["distribution"]],
                series=[Series(_("Ratings"), [row["count"] for row in satisfaction["distribution"]])],
            ),
        ],
    }


def _workload(scope: Scope) -> dict:
    return {"workload": workload.officer_workload(scope)}


BUILDERS: dict[str, Callable[[Scope], dict]] = {
    "pipeline": _pipeline,
    "portfolio": _portfolio,
    "followups": _followups,
    "service": _service,
    "workload": _workload,
}


@require_GET
@action_required("dashboard.view")
def dashboard(request: HttpRequest, tab: str = "pipeline") -> HttpResponse:
    if tab not in BUILDERS:
        raise Http404
    form = DashboardFilterForm(request.GET or None, user=request.user)
    scope = form.scope()
    query = urlencode({key: value for key, value in request.GET.items() if value and key in form.fields})
    context = {
        "form": form,
        "scope": scope,
        "query": query,
        "tab": tab,
        "tab_title": dict(TABS)[tab],
        "tabs": [
            {
                "name": name,
                "label": label,
                "url": reverse("dashboard:home") if name == "pipeline" else reverse("dashboard:tab", args=[name]),
                "active": name == tab,
            }
            for name, label in TABS
        ],
        **BUILDERS[tab](scope),
    }
    return render(request, f"dashboard/{tab}.html", context, status=400 if form.errors else 200)
