"""The officer's application pages: the list, product matching, a new application, the detail page and its actions.

Every view loads the application through `_get_application_for_user` (403 for a role without the function, 404
outside the branch scope), validates a form, calls one service and redirects back to the right tab.
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import action_required, can, has_role, require
from accounts.roles import Role
from core.dates import local_today

from .. import selectors, services
from ..forms import (
    ApplicationFilterForm,
    ApplicationForm,
    AssessmentForm,
    CollateralForm,
    MatchForm,
    MaterialAddForm,
    MaterialCheckForm,
    MaterialUploadForm,
    NoteForm,
    PartyForm,
    ReassignForm,
    WithdrawForm,
    apply_service_errors,
)
from ..matching import LoanRequest, match_products
from ..models import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Collateral,
    Material,
    Party,
    Product,
    RejectionReason,
    TransitionError,
)
from .borrowers import _get_borrower_for_user, intake_steps

S = ApplicationStatus
PAGE_SIZE = 25
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


# --- access -----------------------------------------------------------------------------------------------------
def _get_application_for_user(request: HttpRequest, pk: int, action: str = "application.view") -> Application:
    """The one access check for applications: 403 for a role without `action`, 404 outside the branch scope.

    The application comes with everything its page shows (selectors.application_detail), so the page costs the same
    number of queries whatever its materials and events.
    """
    require(request.user, action)
    try:
        return selectors.application_detail(user=request.user, pk=pk)
    except Application.DoesNotExist:
        raise Http404(_("No such application in your branch.")) from None


def _is_assigned_officer(user, application: Application) -> bool:
    return application.officer_id == user.pk and can(user, "application.create")


def _detail_url(application: Application, tab: str = "summary", anchor: str = "") -> str:
    url = f"{reverse('applications:detail', args=[application.pk])}?tab={tab}"
    return f"{url}#{anchor}" if anchor else url


def _perform(
    request: HttpRequest,
    application: Application,
    action: Callable[[], object],
    *,
    success: str | Callable[[object], str],
    tab: str,
    anchor: str = "",
    form=None,
    form_name: str = "",
) -> HttpResponse:
    """Call one service and go back to the tab: its message on success, the reason when refused, never a 500.

    A ValidationError lands on the form (the page is shown again with status 400) or, for a button without a form,
    in an error message; a TransitionError (the state no longer allows it) is shown as it is and changes nothing.
    """
    try:
        result = action()
    except TransitionError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        if form is not None:
            apply_service_errors(form, error)
            return _render_detail(request, application, tab=tab, status=400, forms={form_name: form})
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success(result) if callable(success) else success)
    return redirect(_detail_url(application, tab, anchor))


# --- the list ---------------------------------------------------------------------------------------------------
@require_GET
@action_required("application.view")
def application_list(request: HttpRequest) -> HttpResponse:
    """Applications of the branch (an officer's own by default), filtered, 25 a page, with counts per status."""
    is_officer = has_role(request.user, Role.OFFICER)
    form = ApplicationFilterForm(request.GET or None, is_officer=is_officer)
    filters = form.filters()
    queryset = selectors.application_list(user=request.user, **filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.status_counts(selectors.application_list(user=request.user, **(filters | {"status": ""})))
    return render(
        request,
        "applications/application_list.html",
        {
            "form": form,
            "page_obj": page,
            "is_officer": is_officer,
            "showing_mine": filters["mine"],
            "is_filtered": form.is_filtered,
            "may_create": can(request.user, "application.create"),
            "status_counts": [(value, label, counts[value]) for value, label in S.choices if counts.get(value)],
            "total_count": sum(counts.values()),
            "current_status": filters["status"],
        },
    )


# --- matching and a new application -----------------------------------------------------------------------------
@require_GET
@login_required
def product_match(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: every active product against the borrower's request, eligible or not and why, with the payment."""
    borrower = _get_borrower_for_user(request, pk, action="application.create")
    form = MatchForm(request.GET or None)
    results = []
    if form.is_valid():
        data = form.cleaned_data
        products = {product.code: product for product in Product.objects.filter(is_active=True)}
        loan = LoanRequest(
            amount=data["amount"],
            term_months=data["term_months"],
            method=data["method"] or None,
            purpose=data["purpose"],
        )
        matches = match_products(
            profile=services.borrower_profile(borrower),
            request=loan,
            products=[services.product_terms(product) for product in products.values()],
            today=local_today(),
        )
        for match in matches:
            product = products[match.product.code]
            apply_url = ""
            if match.eligible:
                query = {
                    "amount": data["amount"],
                    "term_months": data["term_months"],
                    "method": match.method,
                    "purpose": data["purpose"],
                }
                apply_url = f"{reverse('applications:create', args=[borrower.pk, product.pk])}?{urlencode(query)}"
            results.append({"product": product, "match": match, "apply_url": apply_url})
    return render(
        request,
        "applications/product_match.html",
        {
            "borrower": borrower,
            "form": form,
            "results": results,
            "eligible_count": sum(1 for row in results if row["match"].eligible),
            "steps": intake_steps(2, borrower=borrower),
        },
    )


def _initial_terms(request: HttpRequest, product: Product) -> dict:
    """Prefill the terms from the matching page's link; the rate starts at the product's minimum."""
    initial = {"annual_rate": product.min_rate, "method": product.methods[0] if product.methods else ""}
    for name in ("amount", "term_months", "purpose"):
        if request.GET.get(name):
            initial[name] = request.GET[name]
    if request.GET.get("method") in product.methods:
        initial["method"] = request.GET["method"]
    return initial


@require_http_methods(["GET", "POST"])
@login_required
def application_create(request: HttpRequest, pk: int, product_pk: int) -> HttpResponse:
    """Step 3: the requested terms for the chosen product; saving opens a draft with the product's checklist."""
    borrower = _get_borrower_for_user(request, pk, action="application.create")
    product = get_object_or_404(Product, pk=product_pk, is_active=True)
    if request.method == "POST":
        form = ApplicationForm(request.POST, product=product)
        if form.is_valid():
            try:
                application = services.application_create(
                    by=request.user, borrower=borrower, product=product, **form.cleaned_data
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Application %(number)s is open as a draft. Add parties, upload the materials, then submit.")
                    % {"number": application.number},
                )
                return redirect(_detail_url(application))
    else:
        form = ApplicationForm(initial=_initial_terms(request, product), product=product)
    return render(
        request,
        "applications/application_form.html",
        {"form": form, "borrower": borrower, "product": product, "steps": intake_steps(3, borrower=borrower)},
        status=400 if form.is_bound else 200,
    )


# --- the detail page --------------------------------------------------------------------------------------------
def _next_step(application: Application, user) -> str:
    """What happens next, in words, for the person looking at the page."""
    status, officer = application.status, application.officer
    if status in (S.DRAFT, S.RETURNED):
        if not _is_assigned_officer(user, application):
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
        _detail_url(application, "materials", f"material-{item.pk}") for item in services.missing_materials(application)
    ]
    fixed = {
        _("The borrower has not acknowledged the current risk disclosure."): reverse(
            "applications:disclosure", args=[application.pk]
        ),
        _("The credit assessment has not been done."): _detail_url(application, "assessment"),
        _("This product requires a guarantor."): _detail_url(application, "summary", "parties"),
        _("This product requires collateral."): _detail_url(application, "summary", "collateral"),
    }
    return [
        (text, targets[index] if index < len(targets) else fixed.get(text, _detail_url(application)))
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


def _render_detail(
    request: HttpRequest, application: Application, *, tab: str, status: int = 200, forms: dict | None = None
) -> HttpResponse:
    user = request.user
    is_officer = _is_assigned_officer(user, application)
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
        "events": [(event, _event_details(event)) for event in application.events.all()],
        "steps": intake_steps(_TAB_STEP.get(tab, 4), borrower=application.borrower, application=application, done=done)
        if may_edit
        else None,
        "upload_error_for": None,
        "upload_errors": [],
    }
    initial_assessment = (
        {"income_stability": assessment.income_stability, "credit_flags": assessment.credit_flags} if assessment else {}
    )
    context |= {
        "party_form": PartyForm(),
        "collateral_form": CollateralForm(application=application),
        "material_add_form": MaterialAddForm(),
        "upload_form": MaterialUploadForm(),
        "check_form": MaterialCheckForm(),
        "assessment_form": AssessmentForm(initial=initial_assessment),
        "note_form": NoteForm(),
        "withdraw_form": WithdrawForm(),
        "reassign_form": ReassignForm(application=application) if context["may_reassign"] else None,
    }
    context |= forms or {}
    return render(request, "applications/application_detail.html", context, status=status)


@require_GET
@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk)
    tab = request.GET.get("tab", "summary")
    if tab not in dict(TABS):
        tab = "summary"
    return _render_detail(request, application, tab=tab)


@require_http_methods(["GET", "POST"])
@login_required
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the requested terms of a draft or returned application."""
    application = _get_application_for_user(request, pk, action="application.create")
    form = ApplicationForm(
        request.POST or None, product=application.product, initial=ApplicationForm.initial_for(application)
    )
    if request.method == "GET" and not (_is_assigned_officer(request.user, application) and application.is_editable):
        messages.error(
            request, _("Only the assigned officer can change the terms, and only of a draft or returned application.")
        )
        return redirect(_detail_url(application))
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(application=application, by=request.user, **form.cleaned_data)
        except TransitionError as error:
            messages.error(request, str(error))
            return redirect(_detail_url(application))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The requested terms were saved."))
            return redirect(_detail_url(application))
    return render(
        request,
        "applications/application_form.html",
        {
            "form": form,
            "application": application,
            "borrower": application.borrower,
            "product": application.product,
            "steps": intake_steps(3, borrower=application.borrower, application=application),
        },
        status=400 if form.is_bound else 200,
    )


# --- parties and collateral -------------------------------------------------------------------------------------
@require_POST
@login_required
def party_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    form = PartyForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, application, tab="summary", status=400, forms={"party_form": form})
    return _perform(
        request,
        application,
        lambda: services.party_add(application=application, by=request.user, **form.cleaned_data),
        success=lambda party: _("%(party)s was added.") % {"party": party},
        tab="summary",
        anchor="parties",
        form=form,
        form_name="party_form",
    )


@require_POST
@login_required
def party_remove(request: HttpRequest, pk: int, party_pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    party = get_object_or_404(Party, pk=party_pk, application=application)
    party.application = application
    return _perform(
        request,
        application,
        lambda: services.party_remove(party=party, by=request.user),
        success=_("%(party)s was removed.") % {"party": party},
        tab="summary",
        anchor="parties",
    )


@require_POST
@login_required
def collateral_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    form = CollateralForm(request.POST, application=application)
    if not form.is_valid():
        return _render_detail(request, application, tab="summary", status=400, forms={"collateral_form": form})
    return _perform(
        request,
        application,
        lambda: services.collateral_add(application=application, by=request.user, **form.cleaned_data),
        success=lambda item: _("Collateral “%(item)s” was added.") % {"item": item},
        tab="summary",
        anchor="collateral",
        form=form,
        form_name="collateral_form",
    )


@require_POST
@login_required
def collateral_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    item = get_object_or_404(Collateral, pk=item_pk, application=application)
    item.application = application
    return _perform(
        request,
        application,
        lambda: services.collateral_remove(item=item, by=request.user),
        success=_("Collateral “%(item)s” was removed.") % {"item": item},
        tab="summary",
        anchor="collateral",
    )


# --- disclosure and assessment ----------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@login_required
def disclosure(request: HttpRequest, pk: int) -> HttpResponse:
    """The product's current risk disclosure in the reader's language; the officer records the acknowledgement."""
    if request.method == "POST":
        application = _get_application_for_user(request, pk, action="application.create")
        return _perform(
            request,
            application,
            lambda: services.disclosure_acknowledge(application=application, by=request.user),
            success=_("The borrower's acknowledgement of the risk disclosure is recorded."),
            tab="summary",
        )
    application = _get_application_for_user(request, pk)
    versions = sorted(application.product.disclosures.all(), key=lambda version: version.version)
    current = versions[-1] if versions else None
    acknowledgement = next(
        (ack for ack in application.acknowledgements.all() if current and ack.disclosure_id == current.pk), None
    )
    is_officer = _is_assigned_officer(request.user, application)
    return render(
        request,
        "applications/disclosure.html",
        {
            "application": application,
            "disclosure": current,
            "acknowledgement": acknowledgement,
            "earlier": [ack for ack in application.acknowledgements.all() if ack is not acknowledgement],
            "may_acknowledge": bool(is_officer and application.is_editable and current and not acknowledgement),
            "steps": intake_steps(6, borrower=application.borrower, application=application)
            if is_officer and application.is_editable
            else None,
        },
    )


@require_POST
@login_required
def assessment(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, application, tab="assessment", status=400, forms={"assessment_form": form})
    return _perform(
        request,
        application,
        lambda: services.assessment_save(application=application, by=request.user, **form.cleaned_data),
        success=lambda card: (
            _("The assessment is saved: grade %(grade)s, %(total)s points.")
            % {"grade": card.grade, "total": card.total}
        ),
        tab="assessment",
        form=form,
        form_name="assessment_form",
    )


# --- the workflow -----------------------------------------------------------------------------------------------
@require_POST
@login_required
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    try:
        services.application_submit(application=application, by=request.user)
    except TransitionError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(
            request,
            ngettext(
                "The application cannot be submitted yet: %(blockers)s",
                "The application cannot be submitted yet: %(blockers)s",
                len(error.messages),
            )
            % {"blockers": "; ".join(error.messages)},
        )
    else:
        messages.success(
            request,
            _("Application %(number)s is submitted for initial review. The borrower is told by SMS.")
            % {"number": application.number},
        )
    return redirect(_detail_url(application))


@require_POST
@login_required
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.create")
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the application is withdrawn."))
        return redirect(_detail_url(application, anchor="withdraw"))
    return _perform(
        request,
        application,
        lambda: services.application_withdraw(application=application, by=request.user, **form.cleaned_data),
        success=_("Application %(number)s is withdrawn.") % {"number": application.number},
        tab="summary",
    )


@require_POST
@login_required
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, application, tab="timeline", status=400, forms={"note_form": form})
    return _perform(
        request,
        application,
        lambda: services.application_add_note(application=application, by=request.user, text=form.cleaned_data["text"]),
        success=_("Your note is on the timeline."),
        tab="timeline",
        anchor="note",
        form=form,
        form_name="note_form",
    )


@require_POST
@login_required
def application_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    application = _get_application_for_user(request, pk, action="application.reassign")
    form = ReassignForm(request.POST, application=application)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(_detail_url(application, anchor="reassign"))
    officer = form.cleaned_data["officer"]
    return _perform(
        request,
        application,
        lambda: services.application_reassign(application=application, by=request.user, officer=officer),
        success=_("%(number)s is now assigned to %(officer)s, who is told by email.")
        % {"number": application.number, "officer": officer},
        tab="summary",
    )
