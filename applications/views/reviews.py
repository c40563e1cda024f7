"""Reviewers' and approvers' pages: the two queues, claiming an application, and the two review decisions.

Every decision goes through one service, which enforces roles, branch scope, maker-checker and approval limits.
A refusal (PermissionDenied) re-renders the review page with the service's message and status 403, so the reviewer
keeps what they typed; a lost race (TransitionError) goes back to the queue with the message.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import action_required, has_role
from accounts.roles import Role
from core.pagination import counted_page

from .. import selectors, services
from ..forms import apply_service_errors
from ..models import Application, ApplicationStatus, Material, Review, TransitionError
from ..review_forms import CHECKLIST, InitialReviewForm, SecondaryReviewForm
from .common import get_application_for_user

S = ApplicationStatus
PAGE_SIZE = 25
TIMELINE_EVENTS = 8


# --- queues -----------------------------------------------------------------------------------------------------
def _queue_counts(queryset) -> dict[str, int]:
    """Total, waiting, in review and past the review target, in one aggregate query."""
    return queryset.order_by().aggregate(
        total=Count("pk"),
        waiting=Count("pk", filter=Q(status=S.SUBMITTED)),
        in_review=Count("pk", filter=Q(status=S.INITIAL_REVIEW)),
        breached=Count("pk", filter=Q(sla_due_at__lt=timezone.now())),
    )


def _page(request, queryset, total: int):
    page = counted_page(queryset, count=total, number=request.GET.get("page"), per_page=PAGE_SIZE)
    page.object_list = list(page.object_list)
    return page


@action_required("review.initial")
def initial_queue(request):
    queryset = selectors.initial_review_queue(user=request.user)
    counts = _queue_counts(queryset)
    page = _page(request, queryset, counts["total"])
    return render(request, "applications/review/initial_queue.html", {"page_obj": page, "counts": counts})


@action_required("review.secondary")
def approval_queue(request):
    queryset = selectors.approval_queue(user=request.user)
    counts = _queue_counts(queryset)
    page = _page(request, queryset, counts["total"])
    is_manager = has_role(request.user, Role.MANAGER)
    if is_manager:
        by_branch, head_office = selectors.approver_limits_by_branch(page.object_list)
        for application in page.object_list:
            limits = [limit for limit in (by_branch.get(application.branch_id), head_office) if limit is not None]
            application.above_approver_limits = not limits or application.amount > max(limits)
    return render(
        request,
        "applications/review/approval_queue.html",
        {"page_obj": page, "counts": counts, "is_manager": is_manager},
    )


# --- claiming and deciding --------------------------------------------------------------------------------------
@require_POST
@action_required("review.initial")
def review_start(request, pk: int):
    application = get_application_for_user(request, pk, action="review.initial")
    try:
        services.application_start_review(application=application, by=request.user)
    except TransitionError as error:
        messages.error(request, str(error))
        return redirect("applications:review_queue")
    messages.success(request, _("You are reviewing %(number)s.") % {"number": application.number})
    return redirect("applications:review_initial", pk=application.pk)


def _summary(application: Application) -> dict:
    """What both review pages show beside the form, from the prefetched application (no further queries)."""
    assessment = getattr(application, "assessment", None)
    factors = {factor["code"]: factor for factor in assessment.shown_factors} if assessment else {}
    events = list(application.events.all())
    materials = list(application.materials.all())
    reviews = list(application.reviews.all())
    initial_review = next((r for r in reversed(reviews) if r.stage == Review.Stage.INITIAL), None)
    return {
        "application": application,
        "assessment": assessment,
        "dti_factor": factors.get("dti"),
        "materials": materials,
        "missing": [item for item in materials if item.is_outstanding],
        "unchecked": [item for item in materials if item.status == Material.Status.UPLOADED],
        "parties": list(application.parties.all()),
        "collateral": list(application.collateral.all()),
        "events": events[-TIMELINE_EVENTS:][::-1],
        "collateral_total": sum(item.estimated_value for item in application.collateral.all()),
        "materials_checkable": application.status in (S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW),
        "initial_review": initial_review,
        "initial_checklist": [(label, bool(initial_review.checklist.get(name))) for name, label in CHECKLIST]
        if initial_review and initial_review.checklist
        else [],
    }


def _decision_message(review: Review) -> str:
    texts = {
        Review.Decision.PASS: _("%(number)s passed to secondary review."),
        Review.Decision.APPROVE: _("%(number)s approved."),
        Review.Decision.RETURN: _("%(number)s returned to the officer."),
        Review.Decision.REJECT: _("%(number)s rejected."),
    }
    return texts[review.decision] % {"number": review.application.number}


def _decide(request, form, decide, *, queue: str):
    """Call the decision service once: a redirect to the queue when it is done or the state has moved on, else the
    status to show the page again with (403 with the service's reason, or 200 with the form's errors)."""
    try:
        review = decide()
    except TransitionError as error:
        messages.error(request, str(error))
        return redirect(queue), None
    except PermissionDenied as error:
        messages.error(request, str(error) or _("Your role does not allow this."))
        return None, 403
    except ValidationError as error:
        apply_service_errors(form, error)
        return None, 200
    messages.success(request, _decision_message(review))
    return redirect(queue), None


@require_http_methods(["GET", "POST"])
@action_required("review.initial")
def review_initial(request, pk: int):
    application = get_application_for_user(request, pk, action="review.initial")
    form = InitialReviewForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        done, status = _decide(
            request,
            form,
            lambda: services.application_review_initial(
                application=application,
                by=request.user,
                decision=form.cleaned_data["decision"],
                comment=form.cleaned_data["comment"],
                checklist=form.checklist(),
                rejection_codes=form.cleaned_data["rejection_codes"],
            ),
            queue="applications:review_queue",
        )
        if done:
            return done
    context = _summary(application) | {
        "form": form,
        "decidable": application.status in (S.SUBMITTED, S.INITIAL_REVIEW),
    }
    return render(request, "applications/review/initial.html", context, status=status)


@require_http_methods(["GET", "POST"])
@action_required("review.secondary")
def review_secondary(request, pk: int):
    application = get_application_for_user(request, pk, action="review.secondary")
    form = SecondaryReviewForm(request.POST or None, application=application)
    status = 200
    if request.method == "POST" and form.is_valid():
        done, status = _decide(
            request,
            form,
            lambda: services.application_review_secondary(
                application=application, by=request.user, **form.cleaned_data
            ),
            queue="applications:approval_queue",
        )
        if done:
            return done
    context = _summary(application) | {
        "form": form,
        "decidable": application.status == S.SECONDARY_REVIEW,
        "approval_limit": request.user.approval_limit,
        "is_manager": has_role(request.user, Role.MANAGER),
        "within_limit": services.may_approve_amount(request.user, application.amount),
    }
    return render(request, "applications/review/secondary.html", context, status=status)
