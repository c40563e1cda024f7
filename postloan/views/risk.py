"""Manual classification and restructuring through the pages (DESIGN.md §4).

- A risk officer proposes a worse class with a reason; a manager other than the proposer approves or rejects it on the
  loan's page (or from the list of proposals waiting), and later clears the manual class in force.
- An officer or risk officer requests a restructuring after seeing the current unpaid schedule beside the new one (an
  htmx preview, as for a repayment); a risk officer, then a manager, approve it on the request's page.

Every view loads the loan through `get_loan_for_user` and calls one service through `perform`: who may do what, and
when, stays in the services; their refusals come back as messages, bad input as form errors.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import action_required, can, require
from core.schedules import ScheduleMethod

from .. import selectors, services
from ..forms import (
    ClassificationClearForm,
    ClassificationDecisionForm,
    ClassificationProposeForm,
    RestructuringDecisionForm,
    RestructuringForm,
    apply_service_errors,
)
from ..models import (
    OPEN_RESTRUCTURING_STATUSES,
    Classification,
    ClassificationProposal,
    Loan,
    ProposalStatus,
    Restructuring,
    RestructuringStatus,
    TransitionError,
)
from ..services import RestructuringPreview
from ..services.classification import class_rank
from .common import PAGE_SIZE, get_loan_for_user, loan_url, perform

WORST_CLASS_RANK = class_rank(Classification.LOSS)


def risk_context(user, loan: Loan) -> dict:
    """What the loan's page shows and offers about classification and restructuring, from what
    `selectors.loan_detail` prefetched (no queries of its own)."""
    open_proposal = next((item for item in loan.live_proposals if item.status == ProposalStatus.PROPOSED), None)
    in_force = next((item for item in loan.live_proposals if item.status == ProposalStatus.APPROVED), None)
    open_restructuring = next(
        (item for item in loan.restructuring_list if item.status in OPEN_RESTRUCTURING_STATUSES), None
    )
    may_decide = (
        open_proposal is not None and can(user, "classification.approve") and open_proposal.proposed_by_id != user.pk
    )
    return {
        "open_proposal": open_proposal,
        "proposal_in_force": in_force,
        "open_restructuring": open_restructuring,
        "restructurings": loan.restructuring_list,
        "may_propose": (
            can(user, "classification.propose")
            and loan.is_open
            and open_proposal is None
            and class_rank(loan.classification) < WORST_CLASS_RANK
        ),
        "may_decide_proposal": may_decide,
        "decision_form": ClassificationDecisionForm() if may_decide else None,
        "may_clear": can(user, "classification.clear") and in_force is not None,
        "may_request_restructuring": (
            can(user, "restructuring.request") and loan.is_open and open_restructuring is None
        ),
    }


# --- manual classification ----------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@login_required
def classification_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """The risk officer proposes a worse class than the current one, with a reason; a manager decides."""
    loan = get_loan_for_user(request, pk, action="classification.propose")
    if not loan.is_open:
        messages.error(
            request,
            _("Only an active or overdue loan can be classified; this one is “%(status)s”.")
            % {"status": loan.get_status_display()},
        )
        return redirect(loan_url(loan, "classification"))
    waiting = selectors.open_classification_proposal(loan)
    if waiting is not None:
        messages.info(request, _("A manual classification of this loan is already waiting for a manager's decision."))
        return redirect(loan_url(loan, "classification"))
    form = ClassificationProposeForm(request.POST or None, loan=loan)
    if request.method == "POST" and form.is_valid():
        worked, _proposal = perform(
            request,
            lambda: services.classification_propose(loan=loan, by=request.user, **form.cleaned_data),
            success=lambda proposal: (
                _("Your proposal to classify the loan as “%(classification)s” waits for a manager's approval.")
                % {"classification": proposal.get_proposed_class_display()}
            ),
            form=form,
        )
        if worked or not form.errors:
            return redirect(loan_url(loan, "classification"))
    return render(
        request,
        "postloan/risk/classification_propose.html",
        {"loan": loan, "form": form},
        status=400 if form.is_bound else 200,
    )


def _get_proposal(loan: Loan, proposal_pk: int) -> ClassificationProposal:
    proposal = get_object_or_404(
        ClassificationProposal.objects.select_related("proposed_by", "decided_by"), loan=loan, pk=proposal_pk
    )
    proposal.loan = loan
    return proposal


@require_http_methods(["GET", "POST"])
@login_required
def classification_decide(request: HttpRequest, pk: int, proposal_pk: int) -> HttpResponse:
    """A manager other than the proposer approves the proposal (the loan takes the class at once) or rejects it."""
    loan = get_loan_for_user(request, pk, action="classification.approve")
    proposal = _get_proposal(loan, proposal_pk)
    form = ClassificationDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        if request.POST.get("decision") == "approve":
            worked, _result = perform(
                request,
                lambda: services.classification_approve(proposal=proposal, by=request.user, note=note),
                success=_("The manual classification “%(classification)s” is approved and in force.")
                % {"classification": proposal.get_proposed_class_display()},
                form=form,
            )
        else:
            worked, _result = perform(
                request,
                lambda: services.classification_reject(proposal=proposal, by=request.user, note=note),
                success=_("The proposal is rejected; the loan's classification does not change."),
                form=form,
            )
        if worked or not form.errors:
            return redirect(loan_url(loan, "classification"))
    return render(
        request,
        "postloan/risk/classification_decide.html",
        {
            "loan": loan,
            "proposal": proposal,
            "form": form,
            "is_proposer": proposal.proposed_by_id == request.user.pk,
        },
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def classification_clear(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager ends the manual classification in force, with a reason; the loan goes to its floor at once."""
    loan = get_loan_for_user(request, pk, action="classification.clear")
    in_force = (
        ClassificationProposal.objects.select_related("proposed_by", "decided_by")
        .filter(loan=loan, status=ProposalStatus.APPROVED)
        .first()
    )
    if in_force is None:
        messages.info(request, _("No manual classification is in force on this loan."))
        return redirect(loan_url(loan, "classification"))
    form = ClassificationClearForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worked, _cleared = perform(
            request,
            lambda: services.classification_clear(loan=loan, by=request.user, **form.cleaned_data),
            # The service leaves `loan` as it is now: back at its floor.
            success=lambda _cleared: (
                _("The manual classification is cleared; the loan is now “%(classification)s”.")
                % {"classification": loan.get_classification_display()}
            ),
            form=form,
        )
        if worked or not form.errors:
            return redirect(loan_url(loan, "classification"))
    return render(
        request,
        "postloan/risk/classification_clear.html",
        {"loan": loan, "proposal": in_force, "form": form},
        status=400 if form.is_bound else 200,
    )


@require_GET
@action_required("classification.approve")
def classification_queue(request: HttpRequest) -> HttpResponse:
    """Manual classifications of the branch waiting for a manager's decision, oldest first, 25 a page."""
    page = Paginator(selectors.classification_proposals_waiting(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "postloan/risk/classification_queue.html", {"page_obj": page})


# --- restructuring ------------------------------------------------------------------------------------------------
def restructuring_url(restructuring: Restructuring) -> str:
    return reverse("postloan:restructuring_detail", args=[restructuring.loan_id, restructuring.pk])


def _shown(preview: RestructuringPreview | None = None, refusal: str = "") -> dict:
    """The preview template's context: the preview, or why there is none."""
    label = ScheduleMethod(preview.method).label if preview else ""
    return {"preview": preview, "refusal": refusal, "method_label": label}


def _form_preview(loan: Loan, form: RestructuringForm) -> dict:
    """The preview of the form's options: the bad ones go on the form; a refusal by the loan's state (arrears to pay
    first) is shown beside the form, and the request may still be filed."""
    if not form.is_valid():
        return _shown()
    try:
        return _shown(services.restructuring_preview(loan=loan, **form.options()))
    except ValidationError as error:
        apply_service_errors(form, error)
    except TransitionError as error:
        return _shown(refusal=str(error))
    return _shown()


def _render_request_page(request, loan, form, preview: dict | None, status=200) -> HttpResponse:
    return render(
        request,
        "postloan/risk/restructuring_form.html",
        {"loan": loan, "form": form, **(preview or _shown())},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def restructuring_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The officer or risk officer asks for a new schedule. "Preview" (or htmx on change) shows the current unpaid
    schedule beside the new one; "Submit the request" files it for the risk officer and the manager."""
    loan = get_loan_for_user(request, pk, action="restructuring.request")
    if not loan.is_open:
        messages.error(
            request,
            _("Only an active or overdue loan can be restructured; this one is “%(status)s”.")
            % {"status": loan.get_status_display()},
        )
        return redirect(loan_url(loan))
    waiting = selectors.open_restructuring(loan)
    if waiting is not None:
        messages.info(request, _("A restructuring request is already waiting for this loan."))
        return redirect(restructuring_url(waiting))
    if request.method == "GET":
        return _render_request_page(request, loan, RestructuringForm(loan=loan), None)
    if "confirm" not in request.POST:
        # The page without htmx: the preview below the form, with the Submit button.
        form = RestructuringForm(request.POST, loan=loan, preview=True)
        preview = _form_preview(loan, form)
        status = 200 if form.is_valid() and not form.errors else 400
        return _render_request_page(request, loan, form, preview, status=status)
    form = RestructuringForm(request.POST, loan=loan)
    if not form.is_valid():
        return _render_request_page(request, loan, form, None, status=400)
    worked, restructuring = perform(
        request,
        lambda: services.restructuring_request(
            loan=loan, by=request.user, reason=form.cleaned_data["reason"], **form.options()
        ),
        success=_("The restructuring request is filed. A risk officer approves it first, then a manager."),
        form=form,
    )
    if worked:
        return redirect(restructuring_url(restructuring))
    if form.errors:
        return _render_request_page(request, loan, form, None, status=400)
    return redirect(loan_url(loan))


@require_POST
@login_required
def restructuring_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment: the current unpaid schedule beside the new one, the totals, and the Submit button."""
    loan = get_loan_for_user(request, pk, action="restructuring.request")
    form = RestructuringForm(request.POST, loan=loan, preview=True)
    return render(
        request,
        "postloan/risk/restructuring_preview.html",
        {"loan": loan, "form": form, "can_submit": True, **_form_preview(loan, form)},
    )


def _detail_context(request: HttpRequest, loan: Loan, restructuring: Restructuring) -> dict:
    user = request.user
    is_open = restructuring.status in OPEN_RESTRUCTURING_STATUSES
    shown = _shown()
    if is_open:
        # Recomputed now from the loan as it stands: what the final approval would put in force today.
        try:
            shown = _shown(
                services.restructuring_preview(
                    loan=loan,
                    extend_months=restructuring.extend_months,
                    new_method=restructuring.new_method,
                    grace_months=restructuring.grace_months,
                    new_rate=restructuring.new_rate,
                    first_due_date=restructuring.first_due_date,
                )
            )
        except ValidationError as error:
            shown = _shown(refusal=" ".join(error.messages))
        except TransitionError as error:
            shown = _shown(refusal=str(error))
    makers = (restructuring.requested_by_id, restructuring.risk_approved_by_id)
    return {
        "loan": loan,
        "restructuring": restructuring,
        "is_open": is_open,
        **shown,
        "is_requester": restructuring.requested_by_id == user.pk,
        "may_risk_decide": (
            restructuring.status == RestructuringStatus.REQUESTED
            and can(user, "restructuring.risk_approve")
            and user.pk not in makers
        ),
        "may_final_decide": (
            restructuring.status == RestructuringStatus.RISK_APPROVED
            and can(user, "restructuring.approve")
            and user.pk not in makers
        ),
        "may_withdraw": is_open and restructuring.requested_by_id == user.pk,
    }


def _render_detail(request, loan, restructuring, form, status=200) -> HttpResponse:
    context = _detail_context(request, loan, restructuring) | {"form": form}
    return render(request, "postloan/risk/restructuring_detail.html", context, status=status)


@require_GET
@login_required
def restructuring_detail(request: HttpRequest, pk: int, restructuring_pk: int) -> HttpResponse:
    """The request: its options, the two schedules side by side as they would be today, its status and who did what,
    and the buttons the user's role and the request's step allow."""
    loan = get_loan_for_user(request, pk)
    restructuring = selectors.restructuring_for_loan(loan, restructuring_pk)
    return _render_detail(request, loan, restructuring, RestructuringDecisionForm())


# What each decision needs and does: the role asked for (a rejection needs either approving role), the service.
DECISIONS = {
    "risk_approve": (("restructuring.risk_approve",), services.restructuring_risk_approve),
    "approve": (("restructuring.approve",), services.restructuring_approve),
    "reject": (("restructuring.risk_approve", "restructuring.approve"), services.restructuring_reject),
}


def _decision_message(decision: str, restructuring: Restructuring) -> str:
    if decision == "risk_approve":
        return _("You approved the restructuring request; it now waits for a manager.")
    if decision == "approve":
        return _("The restructuring is approved: schedule version %(version)s is in force.") % {
            "version": restructuring.new_version.version
        }
    return _("The restructuring request is rejected; the schedule does not change.")


@require_POST
@login_required
def restructuring_decide(request: HttpRequest, pk: int, restructuring_pk: int) -> HttpResponse:
    """Risk approval, final approval or rejection, with a note (required to reject)."""
    decision = request.POST.get("decision", "")
    if decision not in DECISIONS:
        raise PermissionDenied(_("Your role does not allow this."))
    actions, service = DECISIONS[decision]
    if not any(can(request.user, action) for action in actions):
        require(request.user, actions[0])
    loan = get_loan_for_user(request, pk)
    restructuring = selectors.restructuring_for_loan(loan, restructuring_pk)
    form = RestructuringDecisionForm(request.POST)
    if form.is_valid():
        worked, _result = perform(
            request,
            lambda: service(restructuring=restructuring, by=request.user, note=form.cleaned_data["note"]),
            success=lambda result: _decision_message(decision, result),
            form=form,
        )
        if worked and decision == "approve":
            return redirect(loan_url(loan))
        if worked or not form.errors:
            return redirect(restructuring_url(restructuring))
    return _render_detail(request, loan, restructuring, form, status=400)


@require_POST
@login_required
def restructuring_withdraw(request: HttpRequest, pk: int, restructuring_pk: int) -> HttpResponse:
    """The requester takes back a request still waiting for an approval."""
    loan = get_loan_for_user(request, pk, action="restructuring.request")
    restructuring = selectors.restructuring_for_loan(loan, restructuring_pk)
    perform(
        request,
        lambda: services.restructuring_withdraw(restructuring=restructuring, by=request.user),
        success=_("The restructuring request is withdrawn."),
    )
    return redirect(restructuring_url(restructuring))


@require_GET
@login_required
def restructuring_queue(request: HttpRequest) -> HttpResponse:
    """Restructuring requests of the branch waiting for the user: a risk officer's first approval, a manager's final
    one; oldest first, 25 a page."""
    steps = []
    if can(request.user, "restructuring.risk_approve"):
        steps.append(RestructuringStatus.REQUESTED)
    if can(request.user, "restructuring.approve"):
        steps.append(RestructuringStatus.RISK_APPROVED)
    if not steps:
        raise PermissionDenied(_("Your role does not allow this."))
    page = Paginator(selectors.restructurings_waiting(request.user, steps), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "postloan/risk/restructuring_queue.html",
        {"page_obj": page, "steps": [RestructuringStatus(step).label for step in steps]},
    )
