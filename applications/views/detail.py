"""The application's detail page: its tabs, what happens next, what still blocks submission, the timeline.

`render_detail` also shows the page again, with status 400 and the invalid form, when an action's form is refused.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.permissions import can

from .. import services
from ..forms import (
    AssessmentForm,
    CollateralForm,
    MaterialAddForm,
    NoteForm,
    PartyForm,
    ReassignForm,
    WithdrawForm,
)
from ..models import Application, ApplicationEvent, ApplicationStatus, Material, RejectionReason
from .borrowers import intake_steps
from .common import detail_url, get_application_for_user, is_assigned_officer

S = ApplicationStatus
TABS = (
    ("summary", gettext_lazy("Summary")),
    ("borrower", gettext_lazy("Borrower")),
    ("materials", gettext_lazy("Materials")),
    ("assessment", gettext_lazy("Assessment")),
    ("reviews", gettext_lazy("Reviews")),
    ("timeline", gettext_lazy("Timeline")),
)
IN_REVIEW = (S.SUBMITTED, S.INITIAL_REVIEW, S.SECONDARY_REVIEW)
# The wizard step each tab of a draft carries (see borrowers.INTAKE_STEPS).
_TAB_STEP = {"summary": 4, "materials": 5, "assessment": 7}


def _next_step(application: Application, user) -> str:
    """What happens next, in words, for the person looking at the page."""
    status, officer = application.status, application.officer
    if status in (S.DRAFT, S.RETURNED):
        if not is_assigned_officer(user, application):
            return _("Waiting for %(officer)s to complete and submit the application.") % {"officer": officer}
        if status == S.RETURNED:
            return _("A reviewer returned the application: fix what the last review asks for, then submit it again.")
        return _("Complete the items below, then submit the application for initial review.")
    if status == S.SUBMITTED:
        if can(user, "review.initial"):
            return _("Take the application from the initial review queue to start reviewing it.")
        return _("Waiting for a reviewer to start the initial review.")
    if status == S.INITIAL_REVIEW:
        if application.initial_reviewer_id == user.pk:
            return _("Check every material, then record your initial review decision.")
        return _("In initial review with %(reviewer)s.") % {"reviewer": application.initial_reviewer}
    if status == S.SECONDARY_REVIEW:
        if can(user, "review.secondary"):
            return _("Record the secondary review: approve within your limit, return or reject.")
        return _("Waiting for the secondary review (approval).")
    if status == S.APPROVED:
        return _("Approved: the contract must be signed before %(date)s, or the approval expires.") % {
            "date": application.expires_at.date().isoformat() if application.expires_at else "—"
        }
    if status == S.CONTRACTED:
        return _("The contract is signed; waiting for the disbursement.")
    if status == S.DISBURSED:
        return _("Disbursed: the loan continues in post-loan management.")
    return _("Closed: nothing more to do on this application.")


def _next_step_url(application: Application, user) -> str:
    """Where the viewer acts next, when that is a review page."""
    if application.status == S.SUBMITTED and can(user, "review.initial"):
        return reverse("applications:review_queue")
    if application.status == S.INITIAL_REVIEW and application.initial_reviewer_id == user.pk:
        return reverse("applications:review_initial", args=[application.pk])
    if application.status == S.SECONDARY_REVIEW and can(user, "review.secondary"):
        return reverse("applications:review_secondary", args=[application.pk])
    return ""


def _blocker_links(application: Application, blockers: list[str]) -> list[tuple[str, str]]:
    """Pair each blocker sentence with the place that fixes it.

    services.submission_blockers returns words only; the missing materials come first, in checklist order.
    """
    targets = [
        detail_url(application, "materials", f"material-{item.pk}") for item in services.missing_materials(application)
    ]
    fixed = {
        _("The borrower has not acknowledged the current risk disclosure."): reverse(
            "applications:disclosure", args=[application.pk]
        ),
        _("The credit assessment has not been done."): detail_url(application, "assessment"),
        _("This product requires a guarantor."): detail_url(application, "summary", "parties"),
        _("This product requires collateral."): detail_url(application, "summary", "collateral"),
    }
    return [
        (text, targets[index] if index < len(targets) else fixed.get(text, detail_url(application)))
        for index, text in enumerate(blockers)
    ]


def _event_details(event: ApplicationEvent) -> str:
    """One line about what an event's data records, beyond its note and status change."""
    data = event.data or {}
    kind = event.kind
    if kind == ApplicationEvent.Kind.STATUS:
        if data.get("created"):
            return _("Application opened.")
        if data.get("sla_breached"):
            return _("Decided after the review target.")
    elif kind == ApplicationEvent.Kind.MATERIAL:
        status = data.get("status", "")
        label = Material.Status(status).label if status in Material.Status.values else status
        text = f"{data.get('material', '')}: {label}"
        return f"{text} " + _("(replaces the earlier file)") if data.get("replaced") else text
    elif kind == ApplicationEvent.Kind.DISCLOSURE:
        if data.get("requested"):
            return _("Asked the borrower to acknowledge version %(version)s on the portal.") % {
                "version": data["requested"]
            }
        if data.get("online"):
            return _("Version %(version)s acknowledged on the portal.") % {"version": data.get("version", "—")}
        return _("Version %(version)s acknowledged in person.") % {"version": data.get("version", "—")}
    elif kind == ApplicationEvent.Kind.ASSESSMENT:
        return _("Grade %(grade)s, %(total)s points, %(stops)s hard stop(s).") % {
            "grade": data.get("grade", "—"),
            "total": data.get("total", "—"),
            "stops": data.get("hard_stops", 0),
        }
    elif kind == ApplicationEvent.Kind.ASSIGNMENT:
        return _("From %(previous)s to %(officer)s.") % {
            "previous": data.get("previous", "—"),
            "officer": data.get("officer", "—"),
        }
    elif kind == ApplicationEvent.Kind.NOTE and data.get("changed"):
        labels = [str(Application._meta.get_field(name).verbose_name) for name in data["changed"]]
        return _("Changed: %(fields)s.") % {"fields": ", ".join(labels)}
    return ""


def _rejection_labels(codes) -> list[str]:
    labels = dict(RejectionReason.choices)
    return [str(labels.get(code, code)) for code in codes or ()]


def _tab_forms(application: Application, tab: str, assessment, *, may_reassign: bool) -> dict:
    """The empty forms of the tab shown, and only those: each form built is also rendered."""
    if tab == "materials":
        return {"material_add_form": MaterialAddForm()}
    if tab == "assessment":
        initial = (
            {"income_stability": assessment.income_stability, "credit_flags": assessment.credit_flags}
            if assessment
            else {}
        )
        return {"assessment_form": AssessmentForm(initial=initial)}
    if tab == "timeline":
        return {"note_form": NoteForm()}
    if tab == "summary":
        return {
            "party_form": PartyForm(),
            "collateral_form": CollateralForm(application=application),
            "withdraw_form": WithdrawForm(),
            "reassign_form": ReassignForm(application=application) if may_reassign else None,
        }
    return {}


def render_detail(
    request: HttpRequest, application: Application, *, tab: str, status: int = 200, forms: dict | None = None
) -> HttpResponse:
    user = request.user
    is_officer = is_assigned_officer(user, application)
    may_edit = is_officer and application.is_editable
    materials = list(application.materials.all())
    acknowledged = services.has_current_acknowledgement(application)
    assessment = getattr(application, "assessment", None)
    blockers = services.submission_blockers(application) if application.is_editable else []
    done = {step for step, ok in ((5, not services.missing_materials(application)), (6, acknowledged)) if ok}
    if assessment is not None:
        done.add(7)
    context = {
        "application": application,
        "borrower": application.borrower,
        "tab": tab,
        "tabs": TABS,
        "is_officer": is_officer,
        "may_edit": may_edit,
        "may_withdraw": is_officer and application.is_open,
        "may_reassign": can(user, "application.reassign"),
        "may_check": can(user, "material.check")
        and application.status in IN_REVIEW
        and user.pk not in (application.officer_id, application.created_by_id),
        "may_reveal": can(user, "identity.reveal", application.borrower),
        "next_step": _next_step(application, user),
        "next_step_url": _next_step_url(application, user),
        "blockers": _blocker_links(application, blockers),
        "acknowledged": acknowledged,
        "materials": materials,
        "assessment": assessment,
        "reviews": [(review, _rejection_labels(review.rejection_codes)) for review in application.reviews.all()],
        "rejection_labels": _rejection_labels(application.rejection_codes),
        "events": [(event, _event_details(event)) for event in application.events.all()] if tab == "timeline" else [],
        "steps": intake_steps(_TAB_STEP.get(tab, 4), borrower=application.borrower, application=application, done=done)
        if may_edit
        else None,
        "upload_error_for": None,
        "upload_errors": [],
    }
    context |= _tab_forms(application, tab, assessment, may_reassign=context["may_reassign"])
    context |= forms or {}
    return render(request, "applications/application_detail.html", context, status=status)


@require_GET
@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tab = request.GET.get("tab", "summary")
    if tab not in dict(TABS):
        tab = "summary"
    application = get_application_for_user(request, pk, events=tab == "timeline")
    return render_detail(request, application, tab=tab)
