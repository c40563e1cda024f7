"""The officer's application pages: the list, product matching, a new application, and the workflow actions.

The detail page is in detail.py, parties, collateral, disclosure and assessment in intake.py, the shared access check
and `perform` in common.py.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import action_required, can, has_role
from accounts.roles import Role
from core.dates import local_today
from core.pagination import count_of_status, counted_page

from .. import selectors, services
from ..forms import (
    ApplicationFilterForm,
    ApplicationForm,
    MatchForm,
    NoteForm,
    ReassignForm,
    WithdrawForm,
    apply_service_errors,
)
from ..matching import LoanRequest, match_products
from ..models import ApplicationStatus, Product, TransitionError
from .borrowers import _get_borrower_for_user, intake_steps
from .common import detail_url, get_application_for_user, is_assigned_officer, perform
from .detail import render_detail

S = ApplicationStatus
PAGE_SIZE = 25


# --- the list ---------------------------------------------------------------------------------------------------
@require_GET
@action_required("application.view")
def application_list(request: HttpRequest) -> HttpResponse:
    """Applications of the branch (an officer's own by default), filtered, 25 a page, with counts per status."""
    is_officer = has_role(request.user, Role.OFFICER)
    form = ApplicationFilterForm(request.GET or None, is_officer=is_officer, user=request.user)
    filters = form.filters()
    queryset = selectors.application_list(user=request.user, **filters).only(*selectors.APPLICATION_ROW_FIELDS)
    counts = selectors.status_counts(user=request.user, **filters)
    # The list's count is in the status counts (the same filters but the status): no COUNT query of its own.
    page = counted_page(
        queryset, count=count_of_status(counts, filters["status"]), number=request.GET.get("page"), per_page=PAGE_SIZE
    )
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


# --- matching, a new application and its terms ------------------------------------------------------------------
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
                return redirect(detail_url(application))
    else:
        form = ApplicationForm(initial=_initial_terms(request, product), product=product)
    return render(
        request,
        "applications/application_form.html",
        {"form": form, "borrower": borrower, "product": product, "steps": intake_steps(3, borrower=borrower)},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the requested terms of a draft or returned application."""
    application = get_application_for_user(request, pk, action="application.create")
    form = ApplicationForm(
        request.POST or None, product=application.product, initial=ApplicationForm.initial_for(application)
    )
    if request.method == "GET" and not (is_assigned_officer(request.user, application) and application.is_editable):
        messages.error(
            request, _("Only the assigned officer can change the terms, and only of a draft or returned application.")
        )
        return redirect(detail_url(application))
    if request.method == "POST" and form.is_valid():
        try:
            services.application_update(application=application, by=request.user, **form.cleaned_data)
        except TransitionError as error:
            messages.error(request, str(error))
            return redirect(detail_url(application))
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("The requested terms were saved."))
            return redirect(detail_url(application))
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


# --- the workflow -----------------------------------------------------------------------------------------------
@require_POST
@login_required
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk, action="application.create")
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
    return redirect(detail_url(application))


@require_POST
@login_required
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk, action="application.create")
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the application is withdrawn."))
        return redirect(detail_url(application, anchor="withdraw"))
    return perform(
        request,
        application,
        lambda: services.application_withdraw(application=application, by=request.user, **form.cleaned_data),
        success=_("Application %(number)s is withdrawn.") % {"number": application.number},
        tab="summary",
    )


@require_POST
@login_required
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return render_detail(request, application, tab="timeline", status=400, forms={"note_form": form})
    return perform(
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
    application = get_application_for_user(request, pk, action="application.reassign")
    form = ReassignForm(request.POST, application=application)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(detail_url(application, anchor="reassign"))
    officer = form.cleaned_data["officer"]
    return perform(
        request,
        application,
        lambda: services.application_reassign(application=application, by=request.user, officer=officer),
        success=_("%(number)s is now assigned to %(officer)s, who is told by email.")
        % {"number": application.number, "officer": officer},
        tab="summary",
    )
