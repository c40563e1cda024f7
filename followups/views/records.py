"""The follow-up record page (issue 6): what to prepare, the call script and the record form side by side (stacked
on a phone); contact attempts, visit photos, the online questionnaire, and amendments once approved.

Every view loads its follow-up through `get_followup_for_user` (403 for a role without the function, 404 outside the
branch scope) and calls one service through `perform`: who may do what, and when, stays in the services; their
refusals come back as messages, bad input as form errors on the page shown again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can, require
from postloan.views.common import perform

from .. import selectors, services
from ..forms import AmendmentForm, AttemptForm, PhotoForm, ReassignForm, RecordForm, branch_officers
from ..models import OPEN_FOLLOWUP_STATUSES, FollowUp, FollowUpPhoto, Question, QuestionSet
from ..models.followups import APPLICATION_KINDS, Channel, RiskSignal


def get_followup_for_user(request: HttpRequest, pk: int, action: str = "followup.view", *, detail=False) -> FollowUp:
    """The one access check for follow-ups: 403 for a role without `action`, 404 outside the branch scope.

    With `detail`, the follow-up comes with everything its record page shows (selectors.followup_detail)."""
    require(request.user, action)
    if detail:
        return selectors.followup_detail(user=request.user, pk=pk)
    return get_object_or_404(
        selectors.followups_for(request.user).select_related(*selectors.LIST_RELATED, "loan__contract"), pk=pk
    )


def record_url(followup: FollowUp, anchor: str = "") -> str:
    url = reverse("followups:record", args=[followup.pk])
    return f"{url}#{anchor}" if anchor else url


def _may_record(user, followup: FollowUp) -> bool:
    """Whether the page offers the record form: the assigned officer (or, for a pre-loan contact, the reviewer who
    planned it) while the follow-up is planned or returned. The service decides again on submit."""
    if followup.status not in OPEN_FOLLOWUP_STATUSES or followup.officer_id != user.pk:
        return False
    return can(user, "followup.record") or (followup.kind in APPLICATION_KINDS and can(user, "review.initial"))


def _question_set_for_form(followup: FollowUp) -> QuestionSet | None:
    """The checklist a new record is made with: the active set of the kind (the service stores the set used)."""
    checklist = followup.checklist
    if checklist is not None and checklist.is_active and checklist.kind == followup.kind:
        return checklist
    return services.active_question_set(followup.kind)


def _answer_text(question: Question, value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if question.answer_type == Question.AnswerType.CHOICE:
        for choice in question.choices or []:
            if str(choice.get("value")) == str(value):
                english = (translation.get_language() or "").startswith("en")
                return (choice.get("en") if english else choice.get("zh")) or str(value)
    return str(value)


def _answers(followup: FollowUp) -> list[tuple[str, str]]:
    """The recorded answers with their questions, in checklist order."""
    if not followup.answers or followup.checklist is None:
        return []
    return [
        (question.text, _answer_text(question, followup.answers.get(question.code)))
        for question in followup.checklist.questions.all()
    ]


def _render_record(request: HttpRequest, followup: FollowUp, status: int = 200, **forms) -> HttpResponse:
    user = request.user
    may_record = _may_record(user, followup)
    record_form = forms.get("record_form")
    if record_form is None and may_record:
        record_form = RecordForm(followup=followup, question_set=_question_set_for_form(followup))
    loan = followup.loan
    schedule = list(loan.schedule) if loan is not None else []
    context = {
        "followup": followup,
        "loan": loan,
        "application": followup.application,
        "borrower": loan.borrower if loan is not None else followup.application.borrower,
        "schedule_unpaid": [item for item in schedule if item.status != "paid"][:6],
        "may_record": may_record,
        "record_form": record_form,
        "attempt_form": forms.get("attempt_form") or (AttemptForm() if may_record else None),
        "photo_form": forms.get("photo_form") or (PhotoForm() if may_record else None),
        "may_send_questionnaire": may_record and followup.checklist is not None,
        "answers": _answers(followup),
        "signal_labels": [str(RiskSignal(value).label) for value in followup.risk_signals if value in RiskSignal],
        "is_approved": followup.status == FollowUp.Status.APPROVED,
        "may_amend": followup.status == FollowUp.Status.APPROVED
        and (
            can(user, "followup.review")
            or (user.pk == (followup.completed_by_id or followup.officer_id) and can(user, "followup.record"))
        ),
        "amendment_form": forms.get("amendment_form") or AmendmentForm(),
        "may_reassign": can(user, "followup.reassign") and followup.status in OPEN_FOLLOWUP_STATUSES,
        "reassign_form": ReassignForm(officers=branch_officers(followup.branch_id))
        if can(user, "followup.reassign") and followup.status in OPEN_FOLLOWUP_STATUSES
        else None,
        "visit": Channel.VISIT,
    }
    return render(request, "followups/record/detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def record(request: HttpRequest, pk: int) -> HttpResponse:
    """The record page; on POST the assigned officer submits the record for review (`followup_complete`)."""
    followup = get_followup_for_user(request, pk, detail=True)
    if request.method == "GET":
        return _render_record(request, followup)
    user = request.user
    if not (can(user, "followup.record") or (followup.kind in APPLICATION_KINDS and can(user, "review.initial"))):
        raise PermissionDenied(_("Your role does not allow this."))
    form = RecordForm(request.POST, followup=followup, question_set=_question_set_for_form(followup))
    if form.is_valid():
        worked, done = perform(
            request,
            lambda: services.followup_complete(followup=followup, by=request.user, **form.service_arguments()),
            success=_("The follow-up record is submitted for a risk officer's review."),
            form=form,
        )
        if worked:
            if done.risk_level == "high" or done.risk_signals:
                messages.warning(
                    request, _("Risk was found: a risk warning is open on the loan for the risk officers.")
                )
            return redirect(record_url(followup))
        if not form.errors:
            return redirect(record_url(followup))
    return _render_record(request, followup, status=400, record_form=form)


@require_POST
@login_required
def attempt(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a failed contact attempt from the record page; the follow-up moves to the next business day."""
    followup = get_followup_for_user(request, pk)
    form = AttemptForm(request.POST)
    if form.is_valid():
        worked, _attempt = perform(
            request,
            lambda: services.followup_attempt_log(followup=followup, by=request.user, **form.cleaned_data),
            success=lambda _attempt: (
                _("Attempt logged; the follow-up moves to %(date)s.")
                % {"date": date_format(followup.due_on, "DATE_FORMAT")}
            ),
            form=form,
        )
        if worked or not form.errors:
            return redirect(record_url(followup, "attempts"))
    detail = get_followup_for_user(request, pk, detail=True)
    return _render_record(request, detail, status=400, attempt_form=form)


@require_POST
@login_required
def photo_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a visit photo or scan; its content is checked by the service."""
    followup = get_followup_for_user(request, pk)
    form = PhotoForm(request.POST, request.FILES)
    if form.is_valid():
        worked, _photo = perform(
            request,
            lambda: services.followup_photo_add(followup=followup, by=request.user, **form.cleaned_data),
            success=_("The photo is added to the visit record."),
            form=form,
        )
        if worked or not form.errors:
            return redirect(record_url(followup, "photos"))
    detail = get_followup_for_user(request, pk, detail=True)
    return _render_record(request, detail, status=400, photo_form=form)


@require_GET
@login_required
def photo_download(request: HttpRequest, pk: int, photo_pk: int) -> FileResponse:
    """A visit photo under its original name, to anyone who may see the follow-up."""
    followup = get_followup_for_user(request, pk)
    photo = get_object_or_404(FollowUpPhoto, followup=followup, pk=photo_pk)
    try:
        handle = photo.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file of this photo is missing from storage.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=photo.original_name or photo.file.name.rsplit("/", 1)[-1],
        content_type=photo.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@login_required
def questionnaire_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the borrower the checklist as an online questionnaire; the answers complete the record."""
    followup = get_followup_for_user(request, pk)
    perform(
        request,
        lambda: services.questionnaire_send(followup=followup, by=request.user),
        success=lambda questionnaire: (
            _("The questionnaire is sent to the borrower; the link works until %(date)s.")
            % {"date": date_format(questionnaire.expires_at, "DATE_FORMAT")}
        ),
    )
    return redirect(record_url(followup))


@require_POST
@login_required
def amend(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a correction to an approved record, kept beside it."""
    followup = get_followup_for_user(request, pk)
    form = AmendmentForm(request.POST)
    if form.is_valid():
        worked, _amendment = perform(
            request,
            lambda: services.followup_amend(followup=followup, by=request.user, **form.cleaned_data),
            success=_("The correction is kept beside the approved record."),
            form=form,
        )
        if worked or not form.errors:
            return redirect(record_url(followup, "amendments"))
    detail = get_followup_for_user(request, pk, detail=True)
    return _render_record(request, detail, status=400, amendment_form=form)
