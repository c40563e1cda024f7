"""The officer's intake actions on the detail page: parties, collateral, the risk disclosure and the assessment."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from .. import portal, services
from ..forms import AssessmentForm, CollateralForm, PartyForm
from ..models import Collateral, Party, TransitionError
from .borrowers import intake_steps
from .common import get_application_for_user, is_assigned_officer, perform
from .detail import render_detail


# --- parties and collateral -------------------------------------------------------------------------------------
@require_POST
@login_required
def party_add(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk, action="application.create")
    form = PartyForm(request.POST)
    if not form.is_valid():
        return render_detail(request, application, tab="summary", status=400, forms={"party_form": form})
    return perform(
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
    application = get_application_for_user(request, pk, action="application.create")
    party = get_object_or_404(Party, pk=party_pk, application=application)
    party.application = application
    return perform(
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
    application = get_application_for_user(request, pk, action="application.create")
    form = CollateralForm(request.POST, application=application)
    if not form.is_valid():
        return render_detail(request, application, tab="summary", status=400, forms={"collateral_form": form})
    return perform(
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
    application = get_application_for_user(request, pk, action="application.create")
    item = get_object_or_404(Collateral, pk=item_pk, application=application)
    item.application = application
    return perform(
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
        application = get_application_for_user(request, pk, action="application.create")
        return perform(
            request,
            application,
            lambda: services.disclosure_acknowledge(application=application, by=request.user),
            success=_("The borrower's acknowledgement of the risk disclosure is recorded."),
            tab="summary",
        )
    application = get_application_for_user(request, pk)
    # Who witnessed each acknowledgement and of which version: shown here only, so not read for every page.
    prefetch_related_objects([application], "acknowledgements__disclosure", "acknowledgements__witnessed_by")
    versions = sorted(application.product.disclosures.all(), key=lambda version: version.version)
    current = versions[-1] if versions else None
    acknowledgement = next(
        (ack for ack in application.acknowledgements.all() if current and ack.disclosure_id == current.pk), None
    )
    is_officer = is_assigned_officer(request.user, application)
    may_ask_online = bool(
        is_officer and application.status in portal.DISCLOSURE_STATUSES and current and not acknowledgement
    )
    has_account = application.borrower.user_id is not None
    return render(
        request,
        "applications/disclosure.html",
        {
            "application": application,
            "disclosure": current,
            "acknowledgement": acknowledgement,
            "earlier": [ack for ack in application.acknowledgements.all() if ack is not acknowledgement],
            "may_acknowledge": bool(is_officer and application.is_editable and current and not acknowledgement),
            # Or ask the borrower to acknowledge on the portal, once they have an account there.
            "may_request": may_ask_online and has_account,
            "may_invite_first": may_ask_online and not has_account,
            "steps": intake_steps(6, borrower=application.borrower, application=application)
            if is_officer and application.is_editable
            else None,
        },
    )


@require_POST
@login_required
def disclosure_request(request: HttpRequest, pk: int) -> HttpResponse:
    """The assigned officer asks the borrower, by SMS, to read and acknowledge the disclosure on the portal; anyone
    else is refused by the service (403)."""
    application = get_application_for_user(request, pk, action="application.create")
    try:
        portal.disclosure_request(application=application, by=request.user)
    except TransitionError as error:
        messages.error(request, str(error))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s is asked by SMS to read and acknowledge the risk disclosure on the portal.")
            % {"name": application.borrower.name},
        )
    return redirect("applications:disclosure", pk=application.pk)


@require_POST
@login_required
def assessment(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request, pk, action="application.create")
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        return render_detail(request, application, tab="assessment", status=400, forms={"assessment_form": form})
    return perform(
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
