"""The borrower's pages: overview, an application's progress and materials, the risk disclosure, a loan with its
schedule and payoff quote, and the messages we sent them."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from applications import portal as application_services
from applications.models import TransitionError
from core.dates import local_today
from core.masking import mask_bank_account
from postloan.services import payoff_quote
from postloan.views.common import perform

from .. import progress, selectors
from ..forms import MaterialUploadForm, PayoffDateForm
from .common import borrower_view

MESSAGES_PER_PAGE = 20


@require_GET
@borrower_view
def overview(request: HttpRequest) -> HttpResponse:
    borrower = request.borrower
    # A disbursed application lives on as its loan's card: left out in SQL, so its materials are not read.
    applications = list(selectors.my_applications(borrower).exclude(status="disbursed"))
    loans = list(selectors.my_loans(borrower))
    upcoming = selectors.next_installments(loans)
    application_cards = [_application_card(application) for application in applications]
    loan_cards = [
        {
            "loan": loan,
            "installment": upcoming.get(loan.pk),
            "next_step": progress.loan_next_step(loan, upcoming.get(loan.pk)),
            "is_late": bool(upcoming.get(loan.pk) and upcoming[loan.pk].due_date < local_today()),
        }
        for loan in loans
    ]
    return render(
        request,
        "portal/overview.html",
        {
            "application_cards": application_cards,
            "loan_cards": loan_cards,
            "questionnaires": list(selectors.open_questionnaires(borrower)),
            "inquiries_to_rate": list(selectors.inquiries_to_rate(borrower)[:3]),
            "followups_to_rate": list(selectors.followups_to_rate(borrower)[:3]),
        },
    )


def _application_card(application) -> dict:
    disclosure_pending = application_services.disclosure_pending(application)
    return {
        "application": application,
        "status": progress.PLAIN_STATUS.get(application.status, application.get_status_display()),
        "next_step": progress.application_next_step(application, disclosure_pending=disclosure_pending),
        "needs_action": bool(progress.outstanding_materials(application)) or disclosure_pending,
    }


def _application_page(request: HttpRequest, application, *, upload_forms=None, status: int = 200) -> HttpResponse:
    materials = list(application.materials.all())
    upload_forms = upload_forms or {}
    return render(
        request,
        "portal/application.html",
        {
            "application": application,
            "plain_status": progress.PLAIN_STATUS.get(application.status, application.get_status_display()),
            "stages": progress.stages(application),
            "next_step": progress.application_next_step(
                application, disclosure_pending=application_services.disclosure_pending(application)
            ),
            "disclosure_pending": application_services.disclosure_pending(application),
            "rejection_reasons": progress.rejection_reasons(application),
            "materials": [
                {
                    "material": item,
                    "can_upload": item.status in ("missing", "rejected")
                    and application.status in application_services.UPLOAD_STATUSES,
                    "form": upload_forms.get(item.pk) or MaterialUploadForm(prefix=f"m{item.pk}"),
                }
                for item in materials
            ],
            "officer": application.officer,
        },
        status=status,
    )


@require_GET
@borrower_view
def application_detail(request: HttpRequest, number: str) -> HttpResponse:
    return _application_page(request, selectors.my_application(request.borrower, number))


@require_POST
@borrower_view
def material_upload(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    application = selectors.my_application(request.borrower, number)
    material = selectors.my_material(application, pk)
    form = MaterialUploadForm(request.POST, request.FILES, prefix=f"m{material.pk}")
    if form.is_valid():
        worked, _result = perform(
            request,
            lambda: application_services.material_upload_by_borrower(
                material=material, by=request.user, upload=form.cleaned_data["file"]
            ),
            success=_("Thank you. We received %(name)s and will check it.") % {"name": material.display_name},
            form=form,
        )
        # Saved, or refused with a message (no longer missing, application closed): back to the list either way.
        if worked or not form.errors:
            return redirect(reverse("portal:application", args=[number]) + "#materials")
    application = selectors.my_application(request.borrower, number)
    return _application_page(request, application, upload_forms={material.pk: form}, status=400)


@require_http_methods(["GET", "POST"])
@borrower_view
def disclosure(request: HttpRequest, number: str) -> HttpResponse:
    """Read the product's current risk disclosure and acknowledge it when the officer asked for it."""
    application = selectors.my_application(request.borrower, number)
    if request.method == "POST":
        worked, _result = perform(
            request,
            lambda: application_services.disclosure_acknowledge_online(application=application, by=request.user),
            success=_("Thank you. Your acknowledgement is recorded."),
        )
        return redirect("portal:application", number) if worked else redirect("portal:disclosure", number)
    current = application.product.current_disclosure()
    acknowledged = application.acknowledgements.filter(disclosure=current).first() if current else None
    return render(
        request,
        "portal/disclosure.html",
        {
            "application": application,
            "disclosure": current,
            "acknowledged": acknowledged,
            "pending": application_services.disclosure_pending(application),
        },
    )


def _loan_context(request: HttpRequest, loan) -> dict:
    installments = selectors.loan_installments(loan)
    upcoming = selectors.next_installments([loan]).get(loan.pk)
    today = local_today()
    overdue = [item for item in installments if item.status != "paid" and item.due_date < today]
    disbursement = getattr(loan.contract, "disbursement", None)
    return {
        "loan": loan,
        "installments": installments,
        "upcoming": upcoming,
        "next_step": progress.loan_next_step(loan, upcoming),
        "overdue": overdue,
        "overdue_total": sum((item.outstanding for item in overdue), start=0),
        "today": today,
        "account_masked": mask_bank_account(disbursement.account_number) if disbursement else "",
        "bank_name": disbursement.bank_name if disbursement else "",
    }


@require_GET
@borrower_view
def loan_detail(request: HttpRequest, number: str) -> HttpResponse:
    loan = selectors.my_loan(request.borrower, number)
    context = _loan_context(request, loan)
    context["repayments"] = list(selectors.loan_repayments(loan)[:50])
    form = PayoffDateForm(request.GET if "on_date" in request.GET else None, initial={"on_date": local_today()})
    quote = refusal = None
    if loan.is_open and form.is_bound and form.is_valid():
        try:
            quote = payoff_quote(loan=loan, on_date=form.cleaned_data["on_date"])
        except (TransitionError, ValidationError) as error:
            refusal = " ".join(getattr(error, "messages", [str(error)]))
    context.update({"payoff_form": form, "quote": quote, "quote_refusal": refusal})
    return render(request, "portal/loan.html", context, status=400 if form.is_bound and refusal else 200)


@require_GET
@borrower_view
def schedule_print(request: HttpRequest, number: str) -> HttpResponse:
    """A printable schedule (the browser's "Save as PDF" makes the download)."""
    loan = selectors.my_loan(request.borrower, number)
    return render(request, "portal/schedule_print.html", _loan_context(request, loan))


@require_GET
@borrower_view
def message_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.my_messages(request.user), MESSAGES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/messages.html", {"page": page})
