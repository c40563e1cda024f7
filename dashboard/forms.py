"""The dashboard's filter bar: a period, and for head office a branch; a product and an officer for everyone."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch, User
from accounts.permissions import holders_of, sees_all_branches
from accounts.roles import Role
from applications.models import Product
from core.dates import local_today

from .imports import MAX_FILE_BYTES as MAX_IMPORT_BYTES
from .models import ImportKind
from .scope import Scope

# The default period: the last 90 days up to today.
DEFAULT_DAYS = 90


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DashboardFilterForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=_date_input())
    branch = forms.ModelChoiceField(
        label=_("Branch"), required=False, queryset=Branch.objects.none(), empty_label=_("All branches")
    )
    product = forms.ModelChoiceField(
        label=_("Product"), required=False, queryset=Product.objects.none(), empty_label=_("All products")
    )
    officer = forms.ModelChoiceField(
        label=_("Loan officer"), required=False, queryset=User.objects.none(), empty_label=_("All officers")
    )

    def __init__(self, data=None, *, user: User):
        super().__init__(data or None)
        self.user = user
        officers = holders_of(Role.OFFICER).order_by("username")
        if sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.filter(is_active=True)
        else:
            del self.fields["branch"]
            officers = officers.filter(branch_id=user.branch_id)
        self.fields["officer"].queryset = officers
        self.fields["product"].queryset = Product.objects.order_by("code")
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("The end of the period must not be before its start."))
        return cleaned

    def scope(self) -> Scope:
        """The Scope of a valid form (or the defaults for an empty or invalid one)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        date_to = data.get("date_to") or local_today()
        date_from = data.get("date_from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
        if date_from > date_to:
            date_from = date_to
        branch, product, officer = data.get("branch"), data.get("product"), data.get("officer")
        return Scope(
            user=self.user,
            date_from=date_from,
            date_to=date_to,
            branch_id=branch.pk if branch else None,
            product_id=product.pk if product else None,
            officer_id=officer.pk if officer else None,
        )


class ImportUploadForm(forms.Form):
    """A spreadsheet of existing borrowers or loans: .xlsx or .csv, checked by content, at most 10 MB."""

    kind = forms.ChoiceField(label=_("The file holds"), choices=ImportKind.choices, widget=forms.RadioSelect)
    file = forms.FileField(label=_("File (.xlsx or .csv)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".xlsx", ".csv")):
            raise forms.ValidationError(
                _("Upload an Excel workbook (.xlsx) or a CSV file (.csv); save other formats as one of them first.")
            )
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                _("The file is %(size).1f MB; the largest file accepted is %(limit)d MB.")
                % {"size": upload.size / 1024 / 1024, "limit": MAX_IMPORT_BYTES // 1024 // 1024}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        upload.seek(0)
        head = upload.read(4096)
        upload.seek(0)
        # By content, not by name: a workbook is a zip archive, a CSV file is text.
        if name.endswith(".xlsx") and not head.startswith(b"PK\x03\x04"):
            raise forms.ValidationError(_("This file is named .xlsx but is not an Excel workbook."))
        if name.endswith(".csv") and b"\x00" in head:
            raise forms.ValidationError(_("This file is named .csv but is not text."))
        return upload
