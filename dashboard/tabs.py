"""The dashboard's tabs: for each, the KPI functions (dashboard.kpis) that make its figures for a scope, and the charts
drawn from those figures. Figures are plain data (numbers, dates, lazy labels, drill links), so they can be stored and
shown later in any language (dashboard.figures); charts are drawn on every view."""

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from postloan.models import Bucket

from .charts import Chart, Series
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
    return {
        "statuses": pipeline.status_counts(scope),
        "funnel": pipeline.funnel(scope),
        "decisions": pipeline.decisions(scope),
        "times": pipeline.stage_times(scope),
        "sla": pipeline.sla_breaches(scope),
    }


def _pipeline_charts(figures: dict) -> list[Chart]:
    statuses, funnel, times = figures["statuses"], figures["funnel"], figures["times"]
    return [
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
    ]


def _portfolio(scope: Scope) -> dict:
    return {
        "rolls": portfolio.roll_rates(scope),
        "outstanding": portfolio.outstanding(scope),
        "overdue": portfolio.overdue_by_bucket(scope),
        "classes": portfolio.classification(scope),
        "npl": portfolio.npl_ratio(scope),
        "top_overdue": portfolio.top_overdue(scope),
        "disbursed": portfolio.disbursed_by_month(scope),
    }


def _portfolio_charts(figures: dict) -> list[Chart]:
    disbursed, overdue, classes, rolls = figures["disbursed"], figures["overdue"], figures["classes"], figures["rolls"]
    months = [row["month"].strftime("%Y-%m") for row in disbursed["months"]]
    return [
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
    ]


def _followups(scope: Scope) -> dict:
    return {
        "completion": followup_kpis.completion_by_kind(scope),
        "late": followup_kpis.late_by_officer(scope),
        "warnings": followup_kpis.warnings(scope),
        "risk_levels": followup_kpis.risk_levels(scope),
    }


def _followups_charts(figures: dict) -> list[Chart]:
    completion, levels = figures["completion"], figures["risk_levels"]
    return [
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
    ]


def _service(scope: Scope) -> dict:
    return {
        "inquiries": service.inquiries(scope),
        "satisfaction": service.satisfaction(scope),
        "reminders": service.reminders(scope),
    }


def _service_charts(figures: dict) -> list[Chart]:
    inquiries, satisfaction = figures["inquiries"], figures["satisfaction"]
    return [
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
    ]


def _workload(scope: Scope) -> dict:
    return {"workload": workload.officer_workload(scope)}


# Each tab: the function computing its figures for a scope (stored by dashboard.figures), and the one drawing its
# charts from those figures (on every view, in the viewer's language).
FIGURES: dict[str, Callable[[Scope], dict]] = {
    "pipeline": _pipeline,
    "portfolio": _portfolio,
    "followups": _followups,
    "service": _service,
    "workload": _workload,
}
CHARTS: dict[str, Callable[[dict], list[Chart]]] = {
    "pipeline": _pipeline_charts,
    "portfolio": _portfolio_charts,
    "followups": _followups_charts,
    "service": _service_charts,
}
