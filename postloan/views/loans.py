"""The loan pages: the list, the overdue list, the loan's page with its tabs, a schedule version and the print view."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.permissions import action_required, can, has_role, sees_all_branches
from accounts.roles import Role
from core.dates import local_today
from core.money import format_yuan
from core.pagination import count_of_status, counted_page

from .. import selectors
from ..forms import LoanFilterForm, OverdueFilterForm
from ..models import OPEN_LOAN_STATUSES, Installment, InstallmentStatus, Loan, LoanEvent, LoanStatus
from ..models.base import ZERO
from ..selectors import STATUS_OPEN
from .common import PAGE_SIZE, get_loan_for_user
from .risk import risk_context

TABS = (
    ("schedule", gettext_lazy("Schedule")),
    ("repayments", gettext_lazy("Repayments")),
    ("followups", gettext_lazy("Follow-ups")),
    ("penalties", gettext_lazy("Penalty interest")),
    ("classification", gettext_lazy("Classification")),
    ("versions", gettext_lazy("Schedule versions")),
    ("timeline", gettext_lazy("Timeline")),
)


# Repayments, follow-ups and timeline events per page of the loan page's tabs.
TAB_PAGE_SIZE = 20


# --- lists --------------------------------------------------------------------------------------------------------
@require_GET
@action_required("loan.view")
def loan_list(request: HttpRequest) -> HttpResponse:
    """Loans of the branch (an officer's own by default, a manager's whole branch), filtered, 25 a page."""
    is_officer = has_role(request.user, Role.OFFICER)
    form = LoanFilterForm(request.GET or None, user=request.user, is_officer=is_officer)
    filters = form.filters()
    queryset = selectors.loan_list(user=request.user, **filters).only(*selectors.LOAN_LIST_FIELDS)
    counts = selectors.loan_status_counts(user=request.user, **filters)
    listed = count_of_status(counts, filters["status"], groups={STATUS_OPEN: OPEN_LOAN_STATUSES})
    page = counted_page(queryset, count=listed, number=request.GET.get("page"), per_page=PAGE_SIZE)
    return render(
        request,
        "postloan/loan_list.html",
        {
            "form": form,
            "page_obj": page,
            "is_officer": is_officer,
            "showing_mine": filters["mine"],
            "is_filtered": form.is_filtered,
            "show_branch": sees_all_branches(request.user),
            "status_counts": [
                (value, label, counts[value]) for value, label in LoanStatus.choices if counts.get(value)
            ],
            "total_count": sum(counts.values()),
            "current_status": filters["status"],
            "today": filters["today"],
        },
    )


@require_GET
@action_required("loan.view")
def overdue_list(request: HttpRequest) -> HttpResponse:
    """Open overdue loans by aging bucket, oldest first within each, with count and amount per bucket on top."""
    today = local_today()
    form = OverdueFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    bucket = filters.pop("bucket")
    summary = selectors.overdue_summary(user=request.user, **filters)
    rows = selectors.overdue_list(user=request.user, bucket=bucket, **filters).only(*selectors.LOAN_ROW_FIELDS)
    # The page count comes from the summary per bucket above: no COUNT of its own.
    listed = sum(row["loans"] for row in summary if not bucket or row["bucket"] == bucket)
    page = counted_page(rows, count=listed, number=request.GET.get("page"), per_page=PAGE_SIZE)
    return render(
        request,
        "postloan/overdue_list.html",
        {
            "page_obj": page,
            "summary": summary,
            "total_loans": sum(row["loans"] for row in summary),
            "total_amount": sum((row["amount"] for row in summary), ZERO),
            "current_bucket": bucket,
            "today": today,
            "form": form,
            "is_filtered": form.is_filtered,
        },
    )


# --- the loan's page ----------------------------------------------------------------------------------------------
def installment_state(item: Installment, today) -> str:
    """What the schedule's badge says: paid, overdue, partly paid or not due yet."""
    if item.status == InstallmentStatus.PAID:
        return "paid"
    if item.due_date < today:
        return "overdue"
    if item.total_paid > 0:
        return "partial"
    return "not_due"


def schedule_rows(installments: list[Installment], today) -> tuple[list[tuple[Installment, str]], dict]:
    """Each installment with its state, and the column totals."""
    rows = [(item, installment_state(item, today)) for item in installments]
    totals = {
        name: sum((getattr(item, name) for item in installments), ZERO)
        for name in ("principal_due", "interest_owed", "penalty_accrued", "total_due", "total_paid", "outstanding")
    }
    return rows, totals


def _event_details(event: LoanEvent) -> str:
    """One line about what an event's data records."""
    data = event.data or {}
    kind = event.kind
    if kind in (LoanEvent.Kind.REPAYMENT, LoanEvent.Kind.PAYOFF, LoanEvent.Kind.REVERSAL):
        return _("%(amount)s · reference %(reference)s") % {
            "amount": format_yuan(data.get("amount")),
            "reference": data.get("reference", "—"),
        }
    if kind == LoanEvent.Kind.DISBURSED:
        return _("%(amount)s disbursed on %(date)s · bank reference %(reference)s") % {
            "amount": format_yuan(data.get("amount")),
            "date": data.get("disbursed_on", "—"),
            "reference": data.get("bank_reference", "—"),
        }
    if data.get("from_status") and data.get("to_status"):
        labels = dict(LoanStatus.choices)
        before, after = data["from_status"], data["to_status"]
        return f"{labels.get(before, before)} → {labels.get(after, after)}"
    return ""


@require_GET
@login_required
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tab = request.GET.get("tab", "schedule")
    if tab not in dict(TABS):
        tab = "schedule"
    today = local_today()
    loan = get_loan_for_user(request, pk, detail=True, tab=tab, today=today)
    rows, totals = schedule_rows(loan.schedule, today)
    user = request.user
    context = {
        "loan": loan,
        "contract": loan.contract,
        "product": loan.product,
        "tab": tab,
        "tabs": TABS,
        "today": today,
        "rows": rows,
        "totals": totals,
        "may_post": can(user, "repayment.post") and loan.is_open,
        "may_reverse": can(user, "repayment.reverse"),
        "may_view_warnings": can(user, "warning.view"),
        "repayment_count": loan.repayment_count,
        "followup_count": loan.followup_count,
        # The card above the tabs lists those in work and due soon; it links to the tab when there are more.
        "has_more_followups": loan.followup_count > len(loan.followups_in_work),
        "versions": getattr(loan, "version_list", []),
        "penalties": selectors.penalty_summary(loan) if tab == "penalties" else [],
        **_tab_page(request, loan, tab, today),
        **risk_context(user, loan),
    }
    return render(request, "postloan/loan_detail.html", context)


def _tab_page(request: HttpRequest, loan: Loan, tab: str, today: date) -> dict:
    """The repayments or the follow-ups (their counts are known) or the timeline, one page of them, newest first (the
    follow-ups planned beyond the card's window last)."""
    number = request.GET.get("page")
    if tab == "repayments":
        page = counted_page(
            selectors.loan_repayments(loan), count=loan.repayment_count, number=number, per_page=TAB_PAGE_SIZE
        )
        return {"page_obj": page}
    if tab == "followups":
        rows = selectors.loan_followups(loan, today=today)
        page = counted_page(rows, count=loan.followup_count, number=number, per_page=TAB_PAGE_SIZE)
        return {"page_obj": page}
    if tab == "timeline":
        page = Paginator(selectors.loan_events(loan), TAB_PAGE_SIZE).get_page(number)
        return {"page_obj": page, "events": [(event, _event_details(event)) for event in page]}
    return {}


@require_GET
@login_required
def schedule_version(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    """One schedule version of the loan, current or replaced, with what was paid on it."""
    loan = get_loan_for_user(request, pk)
    found, installments = selectors.schedule_version(loan, version)
    rows, totals = schedule_rows(installments, local_today())
    return render(
        request,
        "postloan/schedule_version.html",
        {"loan": loan, "version": found, "rows": rows, "totals": totals, "is_current": version == loan.current_version},
    )


@require_GET
@login_required
def schedule_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The schedule in force on a clean page for printing: loan and borrower, every installment, totals."""
    loan: Loan = get_loan_for_user(request, pk, detail=True)
    rows, totals = schedule_rows(loan.schedule, local_today())
    return render(
        request,
        "postloan/schedule_print.html",
        {"loan": loan, "contract": loan.contract, "rows": rows, "totals": totals, "printed_on": local_today()},
    )
