"""Forms of the officer's pages: input checks only; every rule of who may do what, and when, stays in services."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, User
from accounts.permissions import holders_of, scope, sees_all_branches
from accounts.roles import Role
from core.identity import (
    birth_date_from_resident_id,
    validate_mobile,
    validate_passport,
    validate_resident_id,
    validate_uscc,
)
from core.money import format_yuan, rate_number
from core.schedules import ScheduleMethod

from . import scoring
from .models import (
    Application,
    ApplicationStatus,
    BorrowerKind,
    Channel,
    Collateral,
    CreditAssessment,
    IdentityType,
    Party,
    Product,
)

ZERO = Decimal("0")
UPLOAD_ACCEPT = ".pdf,.jpg,.jpeg,.png"


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its fields where the form has them, else above the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money_field(label, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=18, decimal_places=2, min_value=ZERO, **kwargs)


# --- the application list ---------------------------------------------------------------------------------------
class ApplicationFilterForm(forms.Form):
    SHOW_MINE, SHOW_BRANCH = "mine", "branch"

    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[(SHOW_MINE, _("My applications")), (SHOW_BRANCH, _("Whole branch"))],
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ApplicationStatus.choices]
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.all(), empty_label=_("All products")
    )
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    officer = forms.ModelChoiceField(
        label=_("Loan officer"), required=False, queryset=User.objects.none(), empty_label=_("All officers")
    )
    created_from = forms.DateField(label=_("Created from"), required=False, widget=_date_input())
    created_to = forms.DateField(label=_("Created to"), required=False, widget=_date_input())
    submitted_from = forms.DateField(label=_("Submitted from"), required=False, widget=_date_input())
    submitted_to = forms.DateField(label=_("Submitted to"), required=False, widget=_date_input())
    breached = forms.BooleanField(label=_("Past review target only"), required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Number, name, mobile or full identity number")}
        ),
    )

    def __init__(self, *args, is_officer: bool = False, user: User | None = None, **kwargs):
        """`user` scopes the branch (head office only) and officer choices; without it neither offers another
        branch (the selector keeps the viewer's branch scope whatever is chosen)."""
        super().__init__(*args, **kwargs)
        self.is_officer = is_officer
        if not is_officer:
            del self.fields["show"]
        if user is not None and sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.order_by("code")
        else:
            del self.fields["branch"]
        officers = holders_of(Role.OFFICER)
        if user is not None:
            officers = scope(officers, user)
        self.fields["officer"].queryset = officers.order_by("display_name", "username").distinct()

    def filters(self) -> dict:
        """Keyword arguments for selectors.application_list (officers see their own unless they ask for more)."""
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "mine": self.is_officer and data.get("show", "") != self.SHOW_BRANCH and not data.get("officer"),
            "status": data.get("status") or "",
            "product_id": data["product"].pk if data.get("product") else None,
            "branch_id": data["branch"].pk if data.get("branch") else None,
            "officer_id": data["officer"].pk if data.get("officer") else None,
            "created_from": data.get("created_from"),
            "created_to": data.get("created_to"),
            "submitted_from": data.get("submitted_from"),
            "submitted_to": data.get("submitted_to"),
            "breached": bool(data.get("breached")),
            "query": data.get("q") or "",
        }

    @property
    def is_filtered(self) -> bool:
        data = self.cleaned_data if self.is_valid() else {}
        return any(value for name, value in data.items() if name != "show")


# --- borrowers --------------------------------------------------------------------------------------------------
class BorrowerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Find a borrower"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, mobile or full identity number"), "autofocus": True}
        ),
    )


class BorrowerForm(forms.Form):
    kind = forms.ChoiceField(label=_("Borrower type"), choices=BorrowerKind.choices, initial=BorrowerKind.INDIVIDUAL)
    name = forms.CharField(label=_("Name"), max_length=200, help_text=_("As on the identity document."))
    legal_representative = forms.CharField(
        label=_("Legal representative"), max_length=100, required=False, help_text=_("Companies only.")
    )
    identity_type = forms.ChoiceField(label=_("Identity document"), choices=IdentityType.choices)
    identity_number = forms.CharField(label=_("Identity number"), max_length=40)
    birth_date = forms.DateField(
        label=_("Date of birth"),
        required=False,
        widget=_date_input(),
        help_text=_("Needed for a passport; a resident identity number carries its own."),
    )
    mobile = forms.CharField(label=_("Mobile number"), max_length=20)
    email = forms.EmailField(label=_("Email"), required=False)
    address = forms.CharField(label=_("Address"), max_length=300)
    employer = forms.CharField(label=_("Employer or business"), max_length=200, required=False)
    monthly_income = _money_field(_("Monthly income (yuan)"))
    monthly_debt_payments = _money_field(
        _("Existing monthly debt payments (yuan)"),
        initial=ZERO,
        help_text=_("Every monthly repayment on the credit report, mortgages included."),
    )
    years_at_job = forms.IntegerField(label=_("Years at job or business"), min_value=0, max_value=80, initial=0)

    def clean_mobile(self) -> str:
        return validate_mobile(self.cleaned_data["mobile"])

    def clean(self) -> dict:
        cleaned = super().clean()
        kind, identity_type = cleaned.get("kind"), cleaned.get("identity_type")
        number = cleaned.get("identity_number")
        if not kind or not identity_type or not number:
            return cleaned
        is_company = kind == BorrowerKind.COMPANY
        if is_company and identity_type != IdentityType.USCC:
            self.add_error("identity_type", _("A company is identified by its unified social credit code."))
            return cleaned
        if not is_company and identity_type == IdentityType.USCC:
            self.add_error(
                "identity_type", _("A person is identified by a resident identity card or a passport, not a USCC.")
            )
            return cleaned
        validator = {
            IdentityType.RESIDENT_ID: validate_resident_id,
            IdentityType.PASSPORT: validate_passport,
            IdentityType.USCC: validate_uscc,
        }[identity_type]
        try:
            cleaned["identity_number"] = validator(number)
        except ValidationError as error:
            self.add_error("identity_number", error)
            return cleaned
        if identity_type == IdentityType.RESIDENT_ID:
            cleaned["birth_date"] = birth_date_from_resident_id(cleaned["identity_number"])
        elif identity_type == IdentityType.PASSPORT and not cleaned.get("birth_date"):
            self.add_error("birth_date", _("Enter the date of birth shown in the passport."))
        if is_company:
            cleaned["birth_date"] = None
            if not cleaned.get("legal_representative", "").strip():
                self.add_error("legal_representative", _("Enter the company's legal representative."))
        else:
            cleaned["legal_representative"] = ""
        return cleaned


# --- matching and the application's terms -----------------------------------------------------------------------
class MatchForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=360)
    method = forms.ChoiceField(
        label=_("Repayment method"),
        required=False,
        choices=[("", _("Any method")), *ScheduleMethod.choices],
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300, required=False)


class ApplicationForm(forms.Form):
    """The requested terms; the repayment methods are those the product offers."""

    amount = forms.DecimalField(label=_("Amount (yuan)"), max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=360)
    method = forms.ChoiceField(label=_("Repayment method"))
    annual_rate = forms.DecimalField(
        label=_("Proposed annual rate (%)"), max_digits=7, decimal_places=4, min_value=ZERO
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, initial=Channel.WALK_IN)

    def __init__(self, *args, product: Product, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(ScheduleMethod.choices)
        self.fields["method"].choices = [(value, labels.get(value, value)) for value in product.methods]
        self.fields["amount"].help_text = _("This product lends %(min)s to %(max)s.") % {
            "min": format_yuan(product.min_amount),
            "max": format_yuan(product.max_amount),
        }
        self.fields["term_months"].help_text = _("%(min)s to %(max)s months.") % {
            "min": product.min_term_months,
            "max": product.max_term_months,
        }
        self.fields["annual_rate"].help_text = _("Between %(min)s%% and %(max)s%% a year.") % {
            "min": rate_number(product.min_rate),
            "max": rate_number(product.max_rate),
        }

    @staticmethod
    def initial_for(application: Application) -> dict:
        return {name: getattr(application, name) for name in ApplicationForm.base_fields}


# --- parties, collateral, materials -----------------------------------------------------------------------------
class PartyForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Party.Role.choices)
    name = forms.CharField(label=_("Name"), max_length=200)
    relationship = forms.CharField(label=_("Relationship to the borrower"), max_length=100, required=False)
    mobile = forms.CharField(label=_("Mobile number"), max_length=20)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)

    def clean_mobile(self) -> str:
        return validate_mobile(self.cleaned_data["mobile"])


class CollateralForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=Collateral.Kind.choices)
    description = forms.CharField(label=_("Description"), max_length=300)
    estimated_value = _money_field(_("Estimated value (yuan)"))
    custodian = forms.ModelChoiceField(
        label=_("Custodian"), required=False, queryset=Party.objects.none(), empty_label=_("None")
    )

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["custodian"].queryset = Party.objects.filter(application=application)


class MaterialAddForm(forms.Form):
    name = forms.CharField(label=_("Material"), max_length=100, help_text=_("For example: lease contract."))
    is_required = forms.BooleanField(
        label=_("Required before submission"), required=False, help_text=_("Submission waits until it is uploaded.")
    )


class MaterialUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, JPEG or PNG, at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": UPLOAD_ACCEPT}),
    )


class MaterialCheckForm(forms.Form):
    ACCEPT, REJECT = "accept", "reject"

    decision = forms.ChoiceField(choices=[(ACCEPT, _("Accept")), (REJECT, _("Reject"))])
    reason = forms.CharField(label=_("Why it is rejected"), max_length=300, required=False)


class AssessmentForm(forms.Form):
    income_stability = forms.ChoiceField(
        label=_("Income stability"),
        choices=CreditAssessment.IncomeStability.choices,
        widget=forms.RadioSelect,
    )
    credit_flags = forms.MultipleChoiceField(
        label=_("Credit report findings"),
        required=False,
        choices=list(scoring.CREDIT_FLAGS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick every finding of the credit report; leave all empty for a clean report."),
    )


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the application withdrawn?"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReassignForm(forms.Form):
    officer = forms.ModelChoiceField(label=_("Hand over to"), queryset=User.objects.none())

    def __init__(self, *args, application: Application, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = (
            holders_of(Role.OFFICER)
            .filter(branch_id=application.branch_id)
            .exclude(pk=application.officer_id)
            .order_by("display_name", "username")
            .distinct()
        )
