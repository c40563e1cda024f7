"""The risk officer's review of follow-up records: the queue of completed records (oldest first) and the review page,
where a risk officer who did not write the record approves it or returns it with a note (`followup_review`).

The role is checked first (403), the record is loaded inside the user's branch scope (404 elsewhere); the service
decides the rest, and its refusals (maker-checker, a record no longer waiting) come back as messages.
"""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import action_required
from applications.views.common import get_application_for_user
from postloan.views.common import PAGE_SIZE, perform

from .. import selectors, services
from ..models import FollowUp, FollowUpKind, FollowUpStatus, Question
from ..models.followups import RiskSignal
from ..review_forms import ReviewForm


@require_GET
@action_required("followup.review")
def review_queue(request: HttpRequest) -> HttpResponse:
    """Completed records of the branch waiting for review, oldest first, 25 a page; never the user's own."""
    page = Paginator(selectors.review_queue(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "followups/review/queue.html", {"page_obj": page})


def answer_rows(followup: FollowUp) -> list[dict]:
    """The checklist as it was answered: each question with its answer in words ("" when unanswered)."""
    checklist = followup.checklist
    questions = list(checklist.questions.all()) if checklist else []
    rows = []
    for question in questions:
        value = followup.answers.get(question.code)
        if value is None:
            shown = ""
        elif question.answer_type == Question.AnswerType.YES_NO:
            shown = _("Yes") if value else _("No")
        elif question.answer_type == Question.AnswerType.CHOICE:
            labels = {str(choice.get("value")): choice for choice in question.choices or []}
            choice = labels.get(str(value), {})
            english = (translation.get_language() or "").startswith("en")
            shown = str((choice.get("en") if english else choice.get("zh")) or value)
        else:
            shown = str(value)
        rows.append({"question": question, "answer": shown})
    return rows


def review_context(request: HttpRequest, followup: FollowUp, form: ReviewForm | None = None) -> dict:
    user = request.user
    is_author = followup.completed_by_id is not None and followup.completed_by_id == user.pk
    waiting = followup.status == FollowUpStatus.COMPLETED
    signal_labels = dict(RiskSignal.choices)
    return {
        "followup": followup,
        "loan": followup.loan,
        "application": followup.application,
        "answers": answer_rows(followup),
        "signals": [signal_labels.get(code, code) for code in followup.risk_signals or []],
        "is_author": is_author,
        "may_review": waiting and not is_author,
        "form": form or ReviewForm(),
    }


@require_http_methods(["GET", "POST"])
@action_required("followup.review")
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The record read-only (answers, attempts, photos), and Approve / Return with a note."""
    followup = selectors.followup_detail(user=request.user, pk=pk)
    if request.method == "GET":
        return render(request, "followups/review/detail.html", review_context(request, followup))
    form = ReviewForm(request.POST)
    if form.is_valid():
        decision = form.cleaned_data["decision"]
        worked, _result = perform(
            request,
            lambda: services.followup_review(
                followup=followup, by=request.user, decision=decision, note=form.cleaned_data["note"]
            ),
            success=(
                _("The follow-up record is approved; it is final from now on.")
                if decision == "approve"
                else _("The record is returned to %(officer)s for correction.") % {"officer": followup.officer}
            ),
            form=form,
        )
        if worked:
            return redirect(reverse("followups:review_queue"))
        if not form.errors:
            return redirect(reverse("followups:review", args=[followup.pk]))
    context = review_context(request, followup, form)
    return render(request, "followups/review/detail.html", context, status=400)


# --- pre-loan contact ---------------------------------------------------------------------------------------------
@require_POST
@action_required("application.view")
def application_verification_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Plan a verification call (信息核实) for an application in initial review, assigned to whoever plans it (the
    reviewer or the application's officer); back to the page it was planned from."""
    application = get_application_for_user(request, pk)
    perform(
        request,
        lambda: services.application_contact_create(
            application=application, by=request.user, kind=FollowUpKind.VERIFICATION_CALL
        ),
        success=lambda followup: (
            _("A verification call is planned for %(date)s; it is on your follow-up list.")
            % {"date": date_format(followup.due_on, "DATE_FORMAT")}
        ),
    )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = reverse("applications:detail", args=[application.pk])
    return redirect(target)
