"""Money on a loan: posting a repayment (with an htmx preview of its allocation), reversing one, and the payoff.

The preview runs the same allocation plan as the posting (`services.repayment_preview`), so what the officer confirms
is what is posted. A repeated submit of the same form carries the same reference, and the service returns the first
repayment instead of recording a second.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.dates import local_today
from core.money import format_yuan

from .. import services
from ..forms import PayoffForm, PayoffQuoteForm, RepaymentForm, ReversalForm, apply_service_errors, new_idempotency_key
from ..models import Loan, Repayment, TransitionError
from .common import get_loan_for_user, loan_url, perform


def _preview(loan: Loan, form: RepaymentForm):
    """The allocation plan of the form's payment (and the new schedule of a prepayment), or None with the reason on
    the form."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    try:
        plan, prepayment = services.repayment_preview(
            loan=loan, amount=data["amount"], paid_on=data["paid_on"], overpayment=data["overpayment"]
        )
    except (ValidationError, TransitionError) as error:
        if isinstance(error, ValidationError):
            apply_service_errors(form, error)
        else:
            form.add_error(None, str(error))
        return None
    credit = loan.credit_balance
    return {
        "plan": plan,
        "credit_used": min(credit, plan.allocated),
        "credit_left": plan.leftover,
        "refused": data["overpayment"] == services.OVERPAYMENT_REFUSE and plan.leftover > 0,
        "prepayment": prepayment,
    }


def _render_post_page(request, loan, form, preview, status=200):
    return render(
        request,
        "postloan/repayment_form.html",
        {"loan": loan, "form": form, "preview": preview},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def repayment_post(request: HttpRequest, pk: int) -> HttpResponse:
    """The officer records money received. "Preview" (or htmx on change) shows the allocation; "Confirm" posts it."""
    # The form names the borrower; a posting redirects (a form sent back with errors reads the borrower then).
    related = ("borrower",) if request.method == "GET" else ()
    loan = get_loan_for_user(request, pk, action="repayment.post", related=related)
    if not loan.is_open:
        messages.error(
            request,
            _("Repayments can be posted only on an active or overdue loan; this one is “%(status)s”.")
            % {"status": loan.get_status_display()},
        )
        return redirect(loan_url(loan))
    if request.method == "GET":
        return _render_post_page(request, loan, RepaymentForm(loan=loan), None)
    form = RepaymentForm(request.POST, loan=loan)
    if "confirm" not in request.POST:
        # The page without htmx: show the preview with the Confirm button.
        preview = _preview(loan, form)
        return _render_post_page(request, loan, form, preview, status=200 if preview else 400)
    if not form.is_valid():
        return _render_post_page(request, loan, form, None, status=400)
    data = form.cleaned_data
    reference = form.payment_reference
    worked, repayment = perform(
        request,
        lambda: services.repayment_post(
            loan=loan,
            amount=data["amount"],
            paid_on=data["paid_on"],
            reference=reference,
            channel=data["channel"],
            overpayment=data["overpayment"],
            by=request.user,
        ),
        success=None,
        form=form,
    )
    if not worked:
        if form.errors:
            return _render_post_page(request, loan, form, None, status=400)
        return redirect(loan_url(loan))
    if repayment.was_posted_before:
        messages.info(
            request,
            _("Repayment %(reference)s of %(amount)s was already posted on %(date)s; nothing new was recorded.")
            % {
                "reference": repayment.reference,
                "amount": format_yuan(repayment.amount),
                "date": date_format(repayment.paid_on),
            },
        )
    else:
        messages.success(
            request,
            _("Repayment of %(amount)s is posted (reference %(reference)s).")
            % {"amount": format_yuan(repayment.amount), "reference": repayment.reference},
        )
    return redirect(loan_url(loan, "repayments", f"repayment-{repayment.pk}"))


@require_POST
@login_required
def repayment_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment: how the payment in the form would be allocated, and the Confirm button."""
    loan = get_loan_for_user(request, pk, action="repayment.post", related=())
    form = RepaymentForm(request.POST, loan=loan)
    preview = _preview(loan, form)
    return render(
        request,
        "postloan/includes/repayment_preview.html",
        {"loan": loan, "form": form, "preview": preview},
    )


def _get_repayment(loan: Loan, repayment_pk: int) -> Repayment:
    repayment = (
        Repayment.objects.select_related("posted_by", "reversal", "reversal__reversed_by")
        .filter(loan=loan, pk=repayment_pk)
        .first()
    )
    if repayment is None:
        raise Http404(_("No such repayment on this loan."))
    repayment.loan = loan
    return repayment


@require_http_methods(["GET", "POST"])
@login_required
def repayment_reverse(request: HttpRequest, pk: int, repayment_pk: int) -> HttpResponse:
    """A manager or risk officer, not the poster, takes a repayment back with a reason."""
    loan = get_loan_for_user(request, pk, action="repayment.reverse")
    repayment = _get_repayment(loan, repayment_pk)
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        worked, _reversal = perform(
            request,
            lambda: services.repayment_reverse(repayment=repayment, by=request.user, **form.cleaned_data),
            success=_("Repayment %(reference)s of %(amount)s is reversed; the loan's balances are recomputed.")
            % {"reference": repayment.reference, "amount": format_yuan(repayment.amount)},
            form=form,
        )
        if worked or not form.errors:
            return redirect(loan_url(loan, "repayments", f"repayment-{repayment.pk}"))
    return render(
        request,
        "postloan/reversal_form.html",
        {"loan": loan, "repayment": repayment, "form": form, "is_poster": repayment.posted_by_id == request.user.pk},
        status=400 if form.is_bound else 200,
    )


# --- payoff -------------------------------------------------------------------------------------------------------
def _quote(loan: Loan, form) -> object | None:
    if not form.is_valid():
        return None
    try:
        return services.payoff_quote(loan=loan, on_date=form.cleaned_data["on_date"])
    except ValidationError as error:
        apply_service_errors(form, error)
    except TransitionError as error:
        form.add_error(None, str(error))
    return None


@require_GET
@login_required
def payoff_quote(request: HttpRequest, pk: int) -> HttpResponse:
    """The htmx fragment: what settles the loan on the chosen date."""
    loan = get_loan_for_user(request, pk, action="repayment.post")
    form = PayoffQuoteForm(request.GET)
    quote = _quote(loan, form)
    return render(request, "postloan/includes/payoff_quote.html", {"loan": loan, "form": form, "quote": quote})


@require_http_methods(["GET", "POST"])
@login_required
def payoff(request: HttpRequest, pk: int) -> HttpResponse:
    """The payoff page: a quote for a date, then the posting of exactly the quoted amount."""
    loan = get_loan_for_user(request, pk, action="repayment.post")
    if request.method == "POST":
        form = PayoffForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            worked, repayment = perform(
                request,
                lambda: services.payoff_post(
                    loan=loan,
                    on_date=data["on_date"],
                    reference=form.payment_reference,
                    channel=data["channel"],
                    expected_total=data["expected_total"],
                    by=request.user,
                ),
                success=lambda repayment: (
                    _("Payoff of %(amount)s is posted: the loan is paid off.")
                    % {"amount": format_yuan(repayment.amount)}
                ),
                form=form,
            )
            if worked:
                return redirect(loan_url(loan, "repayments", f"repayment-{repayment.pk}"))
            if not form.errors:
                return redirect(loan_url(loan))
        quote_form = PayoffQuoteForm(request.POST)
        status = 400
    else:
        on_date = request.GET.get("on_date") or local_today().isoformat()
        form = PayoffForm(initial={"on_date": on_date, "idempotency_key": new_idempotency_key(f"{loan.number}-PO")})
        quote_form = PayoffQuoteForm({"on_date": on_date})
        status = 200
    quote = _quote(loan, quote_form)
    return render(
        request,
        "postloan/payoff_form.html",
        {"loan": loan, "form": form, "quote_form": quote_form, "quote": quote},
        status=status,
    )
