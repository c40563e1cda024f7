"""From an approved application to a loan: the contract and the disbursement, each prepared by the officer and
confirmed by an approver or manager who is not the preparer; and the list of what waits for confirmation."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import can, require
from applications.models import Application, Collateral, Party
from applications.selectors import applications_for
from core.dates import local_today

from .. import selectors, services
from ..forms import ContractPrepareForm, DisbursementPrepareForm
from ..models import Contract, ContractStatus, DisbursementStatus
from .common import PAGE_SIZE, get_contract_for_user, perform


def contract_url(contract: Contract) -> str:
    return reverse("postloan:contract_detail", args=[contract.pk])


def _get_application_for_user(request: HttpRequest, pk: int) -> Application:
    require(request.user, "contract.prepare")
    try:
        return (
            applications_for(request.user)
            .select_related("borrower", "product", "officer", "approved_by")
            .prefetch_related("parties", "collateral")
            .get(pk=pk)
        )
    except Application.DoesNotExist:
        raise Http404(_("No such application in your branch.")) from None


@require_http_methods(["GET", "POST"])
@login_required
def contract_prepare(request: HttpRequest, application_pk: int) -> HttpResponse:
    """The officer draws up the contract of an approved application: the terms come from the approval."""
    application = _get_application_for_user(request, application_pk)
    existing = selectors.contract_of(application)
    if existing is not None:
        messages.info(request, _("Contract %(number)s has already been prepared.") % {"number": existing.number})
        return redirect(contract_url(existing))
    form = ContractPrepareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worked, contract = perform(
            request,
            lambda: services.contract_prepare(application=application, by=request.user, **form.cleaned_data),
            success=lambda contract: (
                _("Contract %(number)s is prepared. An approver or the manager confirms it before it is signed.")
                % {"number": contract.number}
            ),
            form=form,
        )
        if worked:
            return redirect(contract_url(contract))
        if not form.errors:
            return redirect("applications:detail", pk=application.pk)
    return render(
        request,
        "postloan/contract_form.html",
        {"form": form, "application": application},
        status=400 if form.is_bound else 200,
    )


def _snapshot_labels(contract: Contract) -> tuple[list[dict], list[dict]]:
    """The parties and collateral kept at signing, with their role and kind in words."""
    roles, kinds = dict(Party.Role.choices), dict(Collateral.Kind.choices)
    parties = [party | {"role_label": roles.get(party.get("role"), party.get("role"))} for party in contract.parties]
    collateral = [item | {"kind_label": kinds.get(item.get("kind"), item.get("kind"))} for item in contract.collateral]
    return parties, collateral


def render_contract(request: HttpRequest, contract: Contract, *, form=None, status: int = 200) -> HttpResponse:
    user = request.user
    disbursement = getattr(contract, "disbursement", None)
    loan = getattr(contract, "loan", None)
    parties, collateral = _snapshot_labels(contract)
    prepared = contract.status == ContractStatus.PREPARED
    disbursement_prepared = disbursement is not None and disbursement.status == DisbursementStatus.PREPARED
    context = {
        "contract": contract,
        "disbursement": disbursement,
        "loan": loan,
        "parties": parties,
        "collateral": collateral,
        "may_confirm": prepared and can(user, "contract.confirm"),
        "is_preparer": contract.prepared_by_id == user.pk,
        "may_disburse": contract.status == ContractStatus.SIGNED
        and disbursement is None
        and can(user, "disbursement.prepare"),
        "may_confirm_disbursement": disbursement_prepared and can(user, "disbursement.confirm"),
        "is_disbursement_preparer": disbursement is not None and disbursement.prepared_by_id == user.pk,
        "form": form,
    }
    return render(request, "postloan/contract_detail.html", context, status=status)


@require_GET
@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_contract(request, get_contract_for_user(request, pk))


@require_POST
@login_required
def contract_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk, action="contract.confirm")
    perform(
        request,
        lambda: services.contract_confirm(contract=contract, by=request.user),
        success=_("Contract %(number)s is signed. The officer can now record the disbursement.")
        % {"number": contract.number},
    )
    return redirect(contract_url(contract))


@require_http_methods(["GET", "POST"])
@login_required
def disbursement_prepare(request: HttpRequest, pk: int) -> HttpResponse:
    """The officer records the transfer to the borrower's account on the signed contract."""
    contract = get_contract_for_user(request, pk, action="disbursement.prepare")
    form = DisbursementPrepareForm(
        request.POST or None,
        contract=contract,
        initial={"amount": contract.amount, "disbursed_on": local_today()},
    )
    if request.method == "POST" and form.is_valid():
        data = {name: value for name, value in form.cleaned_data.items() if name != "amount"}
        worked, _disbursement = perform(
            request,
            lambda: services.disbursement_prepare(contract=contract, by=request.user, **data),
            success=_("The disbursement is recorded. An approver or the manager confirms it; then the loan starts."),
            form=form,
        )
        if worked or not form.errors:
            return redirect(contract_url(contract))
    return render(
        request,
        "postloan/disbursement_form.html",
        {"form": form, "contract": contract},
        status=400 if form.is_bound else 200,
    )


@require_POST
@login_required
def disbursement_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    contract = get_contract_for_user(request, pk, action="disbursement.confirm")
    disbursement = getattr(contract, "disbursement", None)
    if disbursement is None:
        raise Http404(_("No disbursement is recorded on this contract."))
    worked, loan = perform(
        request,
        lambda: services.disbursement_confirm(disbursement=disbursement, by=request.user),
        success=lambda loan: _("The disbursement is confirmed: loan %(number)s has started.") % {"number": loan.number},
    )
    if worked:
        return redirect("postloan:detail", pk=loan.pk)
    return redirect(contract_url(contract))


@require_GET
@login_required
def confirmations(request: HttpRequest) -> HttpResponse:
    """Contracts and disbursements of the branch waiting for a second person, oldest first."""
    if not (can(request.user, "contract.confirm") or can(request.user, "disbursement.confirm")):
        require(request.user, "contract.confirm")
    contracts = Paginator(selectors.contracts_waiting(request.user), PAGE_SIZE).get_page(request.GET.get("cpage"))
    disbursements = Paginator(selectors.disbursements_waiting(request.user), PAGE_SIZE).get_page(
        request.GET.get("dpage")
    )
    return render(
        request,
        "postloan/confirmations.html",
        {"contracts": contracts, "disbursements": disbursements},
    )
