"""The officer's and the manager's follow-up worklists (issue 6).

- "Today": the officer's planned follow-ups overdue, due today and in the next 7 days, and records returned for
  correction, with their counts; a failed contact attempt is logged from the row (htmx: the row updates in place).
- The team view: per officer counts in one aggregate query, the branch's overdue follow-ups, and reassignment.

Every view checks the role (403) and loads follow-ups through the branch scope (404 outside it); the services decide
who may do what, and their refusals come back as messages.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.permissions import action_required
from core.dates import local_today
from core.pagination import counted_page
from postloan.views.common import PAGE_SIZE, perform

from .. import selectors, services
from ..forms import AttemptForm, ReassignForm, TeamFilterForm, branch_officers
from ..models import FollowUp
from ..templatetags.worklist_rows import today_row_html
from .records import get_followup_for_user

TODAY_LISTS = (
    ("overdue", _lazy("Overdue")),
    ("due_today", _lazy("Due today")),
    ("next_7_days", _lazy("Next 7 days")),
    ("returned", _lazy("Returned for correction")),
)


def _outcome_options() -> str:
    """The quick attempt's <option>s, rendered once per page in the viewer's language: every row of the today lists
    (up to 100) shows the same ones, and a template loop per row cost a fifth of the page's rendering."""
    return format_html_join("", '<option value="{}">{}</option>', AttemptForm().fields["outcome"].choices)


def _with_days_late(rows, today) -> list[FollowUp]:
    rows = list(rows)
    for row in rows:
        row.days_late = max((today - row.due_on).days, 0)
    return rows


def _shown_list(asked: str | None, counts: dict) -> str:
    """The list the page shows: the one asked for, else the first with rows in the order of urgency (late ones
    first), else today's."""
    names = [name for name, _label in TODAY_LISTS]
    if asked in names:
        return asked
    return next((name for name in names if counts[name]), "due_today")


@require_GET
@action_required("followup.record")
def today(request: HttpRequest) -> HttpResponse:
    """The officer's follow-ups to do: overdue, due today, next 7 days, returned; each list's count on its tab, and
    one list shown, 25 a page.

    One list at a time, not all four: up to 100 rows with a quick-attempt form each made a page too long to work
    through on a phone, and 7.4 × the bare baseline at 1M loans (docs/performance.md). The shown list reads only
    its page (LIMIT/OFFSET), counted by the one aggregate query: a busy officer may have thousands of late
    follow-ups.
    """
    day = local_today()
    found = selectors.officer_today(user=request.user, today=day)
    counts = found["counts"]
    shown = _shown_list(request.GET.get("list"), counts)
    page = counted_page(found[shown], count=counts[shown], number=request.GET.get("page"), per_page=PAGE_SIZE)
    page.object_list = _with_days_late(page.object_list, day)
    return render(
        request,
        "followups/worklist/today.html",
        {
            "lists": [
                {"name": name, "label": label, "count": counts[name], "shown": name == shown}
                for name, label in TODAY_LISTS
            ],
            "shown": shown,
            "page_obj": page,
            # The next page keeps the list shown, also when it opened by default.
            "pagination_query": QueryDict(f"list={shown}"),
            "counts": counts,
            "today": day,
            "outcome_options": _outcome_options(),
        },
    )


@require_POST
@action_required("followup.record")
def attempt_quick(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a failed contact attempt from a row of the "today" list; with htmx, the row comes back updated."""
    followup = get_followup_for_user(request, pk, action="followup.record")
    form = AttemptForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.followup_attempt_log(followup=followup, by=request.user, **form.cleaned_data)
        except (services.TransitionError, PermissionDenied) as refused:
            error = str(refused)
        except ValidationError as invalid:
            error = " ".join(invalid.messages)
    else:
        error = _("Choose what happened.")
    notice = "" if error else _("Attempt logged; the follow-up moves to %(date)s.") % {"date": followup.due_on}
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        return redirect("followups:today")
    row = get_followup_for_user(request, pk, action="followup.record")
    row.days_late = max((local_today() - row.due_on).days, 0)
    return HttpResponse(
        today_row_html(row, request=request, outcome_options=_outcome_options(), notice=notice, error=error)
    )


# --- the manager's team view ----------------------------------------------------------------------------------------
@require_GET
@action_required("followup.reassign")
def team(request: HttpRequest) -> HttpResponse:
    """The branch's officers with their counts, the overdue follow-ups (oldest first) and who to reassign them to."""
    day = local_today()
    officers = selectors.team_counts(request.user, day)
    form = TeamFilterForm(request.GET or None, user=request.user)
    overdue = selectors.late_followups(user=request.user, today=day, **form.filters())
    page = Paginator(overdue, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = _with_days_late(page.object_list, day)
    by_branch: dict[int, list[User]] = {}
    for officer in officers:
        by_branch.setdefault(officer.branch_id, []).append(officer)
    for row in page.object_list:
        row.other_officers = [officer for officer in by_branch.get(row.branch_id, []) if officer.pk != row.officer_id]
    return render(
        request,
        "followups/worklist/team.html",
        {"officers": officers, "page_obj": page, "today": day, "form": form, "is_filtered": form.is_filtered},
    )


@require_POST
@action_required("followup.reassign")
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """The manager hands an open follow-up to another officer of its branch."""
    followup = get_followup_for_user(request, pk, action="followup.reassign")
    form = ReassignForm(request.POST, officers=branch_officers(followup.branch_id))
    if not form.is_valid():
        messages.error(request, _("Choose an active loan officer of the follow-up's branch."))
    else:
        officer = form.cleaned_data["officer"]
        perform(
            request,
            lambda: services.followup_reassign(followup=followup, by=request.user, officer=officer),
            success=_("The follow-up is now assigned to %(name)s.") % {"name": officer},
        )
    back = request.POST.get("next", "")
    if back == "record":
        return redirect(reverse("followups:record", args=[followup.pk]))
    return redirect("followups:team")
