"""Forms of the post-loan pages: input checks only; who may do what, and when, stays in the services."""

import secrets
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, User
from accounts.permissions import holders_of, scope, sees_all_branches
from accounts.roles import Role
from applications.forms import apply_service_errors
from applications.models import Product
from core.dates import local_today
from core.money import format_yuan, percent
from core.schedules import ScheduleMethod

from .models import Bucket, Classification, LoanStatus, RepaymentChannel
from .selectors import CLASSIFICATION_NPL, STATUS_OPEN
from .services import (
    OVERPAYMENT_CREDIT,
    OVERPAYMENT_REDUCE_INSTALLMENT,
    OVERPAYMENT_REFUSE,
    OVERPAYMENT_SHORTEN_TERM,
)
from .services.classification import class_rank
from .services.restructuring import MAX_EXTENSION_MONTHS, MAX_GRACE_MONTHS

__all__ = [
    "ClassificationClearForm",
    "ClassificationDecisionForm",
    "ClassificationProposeForm",
    "ContractPrepareForm",
    "DisbursementPrepareForm",
    "LoanFilterForm",
    "OverdueFilterForm",
    "PayoffForm",
    "PayoffQuoteForm",
    "RepaymentForm",
    "RestructuringDecisionForm",
    "RestructuringForm",
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
def scoped_officers(user: User | None):
    """The active loan officers a list may be filtered by: those of the viewer's branch scope (all without one)."""
    officers = holders_of(Role.OFFICER)
    if user is not None:
        officers = scope(officers, user)
    return officers.order_by("display_name", "username").distinct()


class LoanFilterForm(forms.Form):
    SHOW_MINE, SHOW_BRANCH = "mine", "branch"

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(SHOW_MINE, _("My loans")), (SHOW_BRANCH, _("Whole branch"))],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), (STATUS_OPEN, _("Open (active or overdue)")), *LoanStatus.choices],
    )
    bucket = forms.ChoiceField(label=_("Days past due"), required=False, choices=[("", _("Any")), *Bucket.choices])
    classification = forms.ChoiceField(
        label=_("Classification"),
        required=False,
        choices=[
            ("", _("Any")),
            *Classification.choices,
            (CLASSIFICATION_NPL, _("Non-performing (substandard, doubtful or loss)")),
        ],
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.none(), empty_label=_("All products")
    )
    officer = forms.ModelChoiceField(
        label=_("Loan officer"), required=False, queryset=User.objects.none(), empty_label=_("All officers")
    )
    disbursed_from = forms.DateField(label=_("Disbursed from"), required=False, widget=_date_input())
    disbursed_to = forms.DateField(label=_("Disbursed to"), required=False, widget=_date_input())
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
        self.fields["officer"].queryset = scoped_officers(user)
        self.fields["product"].queryset = Product.objects.order_by("code")

    def filters(self) -> dict:
        """Keyword arguments for selectors.loan_list: officers see their own unless they ask for more."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "mine": self.is_officer and data.get("show", "") != self.SHOW_BRANCH and not data.get("officer"),
            "status": data.get("status") or "",
            "bucket": data.get("bucket") or "",
            "classification": data.get("classification") or "",
            "branch_id": data["branch"].pk if data.get("branch") else None,
            "product_id": data["product"].pk if data.get("product") else None,
            "officer_id": data["officer"].pk if data.get("officer") else None,
            "disbursed_from": data.get("disbursed_from"),
            "disbursed_to": data.get("disbursed_to"),
            "due_within_days": DUE_SOON_DAYS if data.get("due_soon") else None,
            "today": local_today(),
            "query": data.get("q") or "",
        }

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(value for name, value in data.items() if name != "show")


class OverdueFilterForm(forms.Form):
    """The overdue list's filters: the bucket, and (as the dashboard's drill-downs pass them) the branch for head
    office, the product and the loan officer. Another branch's id or an unknown one is an invalid choice, and an
    invalid form filters nothing: the list stays inside the viewer's branch scope either way."""

    bucket = forms.ChoiceField(label=_("Days past due"), required=False, choices=[("", _("Any")), *Bucket.choices[1:]])
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.none(), empty_label=_("All products")
    )
    officer = forms.ModelChoiceField(
        label=_("Loan officer"), required=False, queryset=User.objects.none(), empty_label=_("All officers")
    )

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.order_by("code")
        else:
            del self.fields["branch"]
        self.fields["officer"].queryset = scoped_officers(user)
        self.fields["product"].queryset = Product.objects.order_by("code")

    def filters(self) -> dict:
        """Keyword arguments for selectors.overdue_list (and, without the bucket, selectors.overdue_summary)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "bucket": data.get("bucket") or "",
            "branch_id": data["branch"].pk if data.get("branch") else None,
            "product_id": data["product"].pk if data.get("product") else None,
            "officer_id": data["officer"].pk if data.get("officer") else None,
        }

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(value for name, value in data.items() if name != "bucket")


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
            (OVERPAYMENT_CREDIT, _("Keep the rest as credit for the next installment")),
            (OVERPAYMENT_REDUCE_INSTALLMENT, _("Prepay principal: lower installments")),
            (OVERPAYMENT_SHORTEN_TERM, _("Prepay principal: shorter term")),
            (OVERPAYMENT_REFUSE, _("Refuse more than is due")),
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


# --- manual classification ----------------------------------------------------------------------------------------
def _reason_field(label, help_text="") -> forms.CharField:
    return forms.CharField(label=label, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text=help_text)


class ClassificationProposeForm(forms.Form):
    proposed_class = forms.ChoiceField(label=_("Classify the loan as"), widget=forms.RadioSelect)
    reason = _reason_field(
        _("Why?"),
        _("What you know about the borrower that days past due do not show yet, e.g. the business has closed."),
    )

    def __init__(self, *args, loan, **kwargs):
        super().__init__(*args, **kwargs)
        # Only a worse class than the current one may be proposed (DESIGN.md §4).
        current = class_rank(loan.classification)
        self.fields["proposed_class"].choices = [
            (value, label) for value, label in Classification.choices if class_rank(value) > current
        ]


class ClassificationDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional when you approve; say why when you reject."),
    )


class ClassificationClearForm(forms.Form):
    reason = _reason_field(
        _("Why is the manual classification cleared?"),
        _("The loan goes back to the class its days past due set, at once."),
    )


# --- restructuring ------------------------------------------------------------------------------------------------
class RestructuringForm(forms.Form):
    extend_months = forms.IntegerField(
        label=_("Extend the term by (months)"),
        min_value=0,
        max_value=MAX_EXTENSION_MONTHS,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    new_method = forms.ChoiceField(label=_("Repayment method"), required=False)
    grace_months = forms.IntegerField(
        label=_("Interest-only months"),
        min_value=0,
        max_value=MAX_GRACE_MONTHS,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("At the start of the new schedule; part of its term."),
    )
    new_rate = forms.DecimalField(
        label=_("New annual rate (%)"),
        required=False,
        max_digits=7,
        decimal_places=4,
        min_value=ZERO,
        widget=forms.NumberInput(attrs={"step": "0.0001", "inputmode": "decimal"}),
    )
    first_due_date = forms.DateField(
        label=_("First due date of the new schedule"),
        widget=_date_input(),
        help_text=_("After today and within two months; later payments fall due monthly on this day."),
    )
    reason = forms.CharField(
        label=_("Why does the borrower need a new schedule?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, loan, preview: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.loan = loan
        # The preview needs the options only; the reason is asked for when the request is filed.
        self.fields["reason"].required = not preview
        methods = loan.product.methods or []
        labels = dict(ScheduleMethod.choices)
        self.fields["new_method"].choices = [
            ("", _("Keep %(method)s") % {"method": loan.get_method_display()}),
            *[(value, labels[value]) for value in ScheduleMethod.values if value in methods and value != loan.method],
        ]
        self.fields["new_rate"].help_text = _(
            "Blank keeps the current %(rate)s; a restructuring may only lower it."
        ) % {"rate": percent(loan.annual_rate)}
        if not self.is_bound:
            today = local_today()
            upcoming = loan.next_due_date if loan.next_due_date and loan.next_due_date > today else None
            self.initial.setdefault("first_due_date", upcoming)

    def options(self) -> dict:
        """Keyword arguments for restructuring_preview (and, with the reason, restructuring_request)."""
        data = self.cleaned_data
        return {
            "extend_months": data["extend_months"],
            "new_method": data.get("new_method") or "",
            "grace_months": data["grace_months"],
            "new_rate": data.get("new_rate"),
            "first_due_date": data["first_due_date"],
        }


class RestructuringDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional when you approve; say why when you reject."),
    )
