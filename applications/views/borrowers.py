"""Borrower pages of the intake wizard: find or register the borrower, see their profile, reveal an identity number."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import action_required, can, in_scope, require
from core.masking import mask_phone

from .. import portal, selectors, services
from ..forms import BorrowerForm, BorrowerSearchForm, apply_service_errors
from ..models import Application, Borrower, TransitionError

# The intake wizard, first step to last; the detail page's tabs carry steps 4 to 8.
INTAKE_STEPS = (
    gettext_lazy("Borrower"),
    gettext_lazy("Products"),
    gettext_lazy("Details"),
    gettext_lazy("Parties & collateral"),
    gettext_lazy("Materials"),
    gettext_lazy("Disclosure"),
    gettext_lazy("Assessment"),
    gettext_lazy("Submit"),
)


def intake_steps(
    current: int, *, borrower: Borrower | None = None, application: Application | None = None, done=()
) -> list[dict]:
    """The progress bar of the intake wizard: each step's label, link (once reachable) and state."""
    urls: dict[int, str] = {1: reverse("applications:new")}
    if borrower is not None:
        urls[2] = reverse("applications:product_match", args=[borrower.pk])
    if application is not None:
        detail = reverse("applications:detail", args=[application.pk])
        urls |= {
            3: reverse("applications:edit", args=[application.pk]),
            4: f"{detail}?tab=summary#parties",
            5: f"{detail}?tab=materials",
            6: reverse("applications:disclosure", args=[application.pk]),
            7: f"{detail}?tab=assessment",
            8: f"{detail}?tab=summary#submit",
        }
    steps = []
    for number, label in enumerate(INTAKE_STEPS, start=1):
        if number == current:
            state = "current"
        elif number < min(current, 4) or number in done:
            state = "done"
        else:
            state = "todo"
        steps.append({"number": number, "label": label, "url": urls.get(number, ""), "state": state})
    return steps


def _get_borrower_for_user(request: HttpRequest, pk: int, action: str = "application.view") -> Borrower:
    """The one access check for borrowers: 403 for a role without the function, 404 outside the branch scope."""
    require(request.user, action)
    try:
        return selectors.borrowers_for(request.user).select_related("branch", "created_by", "user").get(pk=pk)
    except Borrower.DoesNotExist:
        raise Http404(_("No such borrower in your branch.")) from None


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@require_GET
@action_required("application.create")
def borrower_pick(request: HttpRequest) -> HttpResponse:
    """Step 1: find the borrower among those of the branch, or register a new one."""
    form = BorrowerSearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    results = list(selectors.borrower_search(user=request.user, query=query)) if query else []
    return render(
        request,
        "applications/borrower_pick.html",
        {"form": form, "query": query, "results": results, "steps": intake_steps(1)},
    )


@require_http_methods(["GET", "POST"])
@action_required("borrower.create")
def borrower_create(request: HttpRequest) -> HttpResponse:
    """Step 1b: register a borrower; an identity already on file leads to that borrower instead of a duplicate."""
    form = BorrowerForm(request.POST or None, initial={"name": request.GET.get("q", "")[:200]})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        identity_type, identity_number = data.pop("identity_type"), data.pop("identity_number")
        try:
            borrower, created = services.borrower_create(
                by=request.user, identity_type=identity_type, identity_number=identity_number, **data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            if created:
                messages.success(
                    request,
                    _("%(name)s is registered as a borrower. Now find a product that fits their request.")
                    % {"name": borrower.name},
                )
                return redirect("applications:product_match", pk=borrower.pk)
            if in_scope(request.user, borrower):
                messages.info(
                    request,
                    _("This person is already a borrower: %(name)s (%(identity)s). Nothing new was created.")
                    % {"name": borrower.name, "identity": borrower.identity_masked},
                )
                return redirect("applications:borrower_detail", pk=borrower.pk)
            form.add_error(
                "identity_number",
                _(
                    "This person is already a borrower of %(branch)s. Nothing new was created; ask that branch to "
                    "take the application in or to hand the borrower over."
                )
                % {"branch": borrower.branch},
            )
    return render(
        request,
        "applications/borrower_form.html",
        {"form": form, "steps": intake_steps(1)},
        status=400 if form.is_bound and form.errors else 200,
    )


def _borrower_page(request: HttpRequest, borrower: Borrower, *, revealed_number: str = "") -> HttpResponse:
    applications = (
        selectors.applications_for(request.user)
        .filter(borrower=borrower)
        .select_related("product", "officer")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "applications/borrower_detail.html",
        {
            "borrower": borrower,
            "applications": applications,
            "may_apply": can(request.user, "application.create"),
            "may_reveal": can(request.user, "identity.reveal", borrower),
            "revealed_number": revealed_number,
            "may_invite": can(request.user, "borrower.invite", borrower) and not borrower.user_id,
            "portal_user": borrower.user if borrower.user_id else None,
            "invitation_hours": int(portal.INVITATION_VALID.total_seconds() // 3600),
            "pending_invitation": None if borrower.user_id else selectors.pending_invitation(borrower),
        },
    )


@require_GET
@login_required
def borrower_detail(request: HttpRequest, pk: int) -> HttpResponse:
    borrower = _get_borrower_for_user(request, pk)
    return _borrower_page(request, borrower)


@require_POST
@login_required
def identity_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full identity number for a role allowed to see it; the service writes the audit row (or refuses: 403)."""
    borrower = _get_borrower_for_user(request, pk)
    number = services.identity_reveal(borrower=borrower, by=request.user, ip_address=_client_ip(request))
    if request.headers.get("HX-Request"):
        return render(
            request,
            "applications/includes/identity_number.html",
            {"borrower": borrower, "revealed_number": number, "may_reveal": True},
        )
    return _borrower_page(request, borrower, revealed_number=number)


@require_POST
@login_required
def borrower_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """The officer sends the borrower a one-time link (SMS, and email where given) to set a portal password."""
    borrower = _get_borrower_for_user(request, pk, action="borrower.invite")
    try:
        invitation, _token = portal.borrower_invite(borrower=borrower, by=request.user)
    except (TransitionError, PermissionDenied) as refused:
        messages.error(request, str(refused) or _("Your role does not allow this."))
    else:
        messages.success(
            request,
            _("The invitation is sent to %(mobile)s; the link works until %(until)s.")
            % {
                "mobile": mask_phone(borrower.mobile),
                "until": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M"),
            },
        )
    return redirect(reverse("applications:borrower_detail", args=[borrower.pk]) + "#portal")
