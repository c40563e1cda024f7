"""Forms of the post-loan pages: input checks only; who may do what, and when, stays in the services."""

import secrets
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, User
from accounts.permissions import scope, sees_all_branches
from accounts.roles import Role
from applications.forms import apply_service_errors
from core.dates import local_today
from core.money import format_yuan

from .models import Bucket, Classification, LoanStatus, RepaymentChannel
from .services import OVERPAYMENT_CREDIT, OVERPAYMENT_REFUSE

__all__ = [
    "ContractPrepareForm",
    "DisbursementPrepareForm",
    "LoanFilterForm",
    "OverdueFilterForm",
    "PayoffForm",
    "PayoffQuoteForm",
    "RepaymentForm",
    "ReversalForm",
    "apply_service_errors",
]

ZERO = Decimal("0")
# Days ahead that "due soon" looks at on the loan list.
DUE_SOON_DAYS = 7


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=18,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        **kwargs,
    )


def new_idempotency_key(prefix: str) -> str:
    """A reference for a payment without one, made when the form is first shown: resubmitting the same form posts
    nothing new, because the service is idempotent on the reference."""
    return f"{prefix}-{secrets.token_hex(6).upper()}"


# --- lists --------------------------------------------------------------------------------------------------------
class LoanFilterForm(forms.Form):
    SHOW_MINE, SHOW_BRANCH = "mine", "branch"

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(SHOW_MINE, _("My loans")), (SHOW_BRANCH, _("Whole branch"))],
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *LoanStatus.choices]
    )
    bucket = forms.ChoiceField(label=_("Days past due"), required=False, choices=[("", _("Any")), *Bucket.choices])
    classification = forms.ChoiceField(
        label=_("Classification"), required=False, choices=[("", _("Any")), *Classification.choices]
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    officer = forms.ModelChoiceField(
        label=_("Loan officer"), required=False, queryset=User.objects.none(), empty_label=_("All officers")
    )
    due_soon = forms.BooleanField(label=_("Due in the next 7 days"), required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Loan or contract number, name or mobile")}),
    )

    def __init__(self, *args, user: User, is_officer: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_officer = is_officer
        if not is_officer:
            del self.fields["show"]
        if sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.order_by("code")
        else:
            del self.fields["branch"]
        officers = scope(User.objects.filter(groups__name=Role.OFFICER, is_active=True), user)
        self.fields["officer"].queryset = officers.order_by("display_name", "username").distinct()

    def filters(self) -> dict:
        """Keyword arguments for selectors.loan_list: officers see their own unless they ask for more."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "mine": self.is_officer and data.get("show", "") != self.SHOW_BRANCH and not data.get("officer"),
            "status": data.get("status") or "",
            "bucket": data.get("bucket") or "",
            "classification": data.get("classification") or "",
            "branch_id": data["branch"].pk if data.get("branch") else None,
            "officer_id": data["officer"].pk if data.get("officer") else None,
            "due_within_days": DUE_SOON_DAYS if data.get("due_soon") else None,
            "today": local_today(),
            "query": data.get("q") or "",
        }

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(value for name, value in data.items() if name != "show")


class OverdueFilterForm(forms.Form):
    bucket = forms.ChoiceField(label=_("Days past due"), required=False, choices=[("", _("Any")), *Bucket.choices[1:]])


# --- contract and disbursement ------------------------------------------------------------------------------------
class ContractPrepareForm(forms.Form):
    first_due_date = forms.DateField(
        label=_("First due date"),
        widget=_date_input(),
        help_text=_("Repayments fall due monthly on this day of the month; within two months of today."),
    )


class DisbursementPrepareForm(forms.Form):
    amount = _money_field(_("Amount transferred"), help_text=_("The whole contract amount, as the bank sent it."))
    disbursed_on = forms.DateField(label=_("Disbursed on"), widget=_date_input())
    bank_name = forms.CharField(label=_("Bank of the borrower's account"), max_length=100)
    account_number = forms.CharField(
        label=_("Borrower's account number"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=_("Shown masked once saved."),
    )
    bank_reference = forms.CharField(label=_("Bank reference of the transfer"), max_length=64)

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.contract = contract

    def clean_amount(self) -> Decimal:
        # The service moves exactly the contract amount; a different figure means the transfer is not the right one.
        amount = self.cleaned_data["amount"]
        if amount != self.contract.amount:
            raise forms.ValidationError(
                _("The disbursed amount must equal the contract amount, %(amount)s.")
                % {"amount": format_yuan(self.contract.amount)}
            )
        return amount


# --- repayments ---------------------------------------------------------------------------------------------------
class RepaymentForm(forms.Form):
    amount = _money_field(_("Amount received"))
    paid_on = forms.DateField(label=_("Paid on"), widget=_date_input())
    channel = forms.ChoiceField(label=_("Channel"), choices=RepaymentChannel.choices)
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=64,
        help_text=_(
            "The bank or channel transaction number. Leave it blank for cash without a receipt number: "
            "LoanTrack assigns one."
        ),
    )
    overpayment = forms.ChoiceField(
        label=_("If the amount is more than what is payable now"),
        choices=[
            (OVERPAYMENT_CREDIT, _("Keep the rest as credit for the next installments")),
            (OVERPAYMENT_REFUSE, _("Refuse the payment")),
        ],
        initial=OVERPAYMENT_CREDIT,
        widget=forms.RadioSelect,
    )
    # Made when the form is first shown; the reference when the officer leaves it blank.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, loan, **kwargs):
        super().__init__(*args, **kwargs)
        self.loan = loan
        if not self.is_bound:
            self.initial.setdefault("paid_on", local_today())
            self.initial.setdefault("idempotency_key", new_idempotency_key(loan.number))

    @property
    def payment_reference(self) -> str:
        return self.cleaned_data.get("reference") or self.cleaned_data["idempotency_key"]


class ReversalForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the repayment reversed?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. the transfer bounced, or it was posted on the wrong loan. The borrower's record keeps it."),
    )


class PayoffQuoteForm(forms.Form):
    on_date = forms.DateField(label=_("Payoff date"), widget=_date_input())


class PayoffForm(PayoffQuoteForm):
    channel = forms.ChoiceField(label=_("Channel"), choices=RepaymentChannel.choices)
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=64,
        help_text=_("The bank or channel transaction number; blank for cash without a receipt number."),
    )
    expected_total = forms.DecimalField(widget=forms.HiddenInput, max_digits=18, decimal_places=2)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    @property
    def payment_reference(self) -> str:
        return self.cleaned_data.get("reference") or self.cleaned_data["idempotency_key"]
