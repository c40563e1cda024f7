"""Admin screens for what administrators manage: products, their checklists and disclosures, and the block list.

Borrowers and applications are read-only here: they change only through the services, which enforce the rules.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core.identity import validate_passport, validate_resident_id, validate_uscc
from core.masking import mask_identity_number

from .models import (
    Application,
    BlockListEntry,
    Borrower,
    IdentityType,
    MaterialRequirement,
    Product,
    RiskDisclosure,
    identity_lookup_hash,
)


class MaterialRequirementInline(admin.TabularInline):
    model = MaterialRequirement
    extra = 1


class RiskDisclosureInline(admin.StackedInline):
    """Versions are append-only: existing ones cannot be edited, a change is a new version."""

    model = RiskDisclosure
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name_zh", "name_en", "min_amount", "max_amount", "min_rate", "max_rate", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name_zh", "name_en"]
    inlines = [MaterialRequirementInline, RiskDisclosureInline]


class BlockListEntryForm(forms.ModelForm):
    """The identity number is typed once to compute the hash and the masked copy; it is never stored."""

    identity_number = forms.CharField(label=_("identity number"), max_length=40)

    class Meta:
        model = BlockListEntry
        fields = ["identity_type", "identity_number", "reason"]

    def clean(self):
        cleaned = super().clean()
        identity_type, number = cleaned.get("identity_type"), cleaned.get("identity_number")
        if identity_type and number:
            validator = {
                IdentityType.RESIDENT_ID: validate_resident_id,
                IdentityType.PASSPORT: validate_passport,
                IdentityType.USCC: validate_uscc,
            }[identity_type]
            try:
                number = validator(number)
            except ValidationError as error:
                self.add_error("identity_number", error)
                return cleaned
            self.instance.identity_hash = identity_lookup_hash(identity_type, number)
            self.instance.identity_masked = mask_identity_number(number)
        return cleaned


@admin.register(BlockListEntry)
class BlockListEntryAdmin(SimpleHistoryAdmin):
    form = BlockListEntryForm
    list_display = ["identity_masked", "identity_type", "reason", "added_by", "created_at"]
    list_select_related = ["added_by"]
    search_fields = ["identity_masked", "reason"]

    def get_readonly_fields(self, request, obj=None):
        return ["identity_type", "identity_masked", "added_by"] if obj else []

    def get_fields(self, request, obj=None):
        return ["identity_type", "identity_masked", "reason", "added_by"] if obj else super().get_fields(request, obj)

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Borrower)
class BorrowerAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "identity_masked", "branch", "created_at"]
    list_filter = ["kind", "branch"]
    list_select_related = ["branch"]
    search_fields = ["name"]
    exclude = ["identity_number", "identity_hash"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["number", "borrower", "product", "amount", "status", "branch", "officer", "created_at"]
    list_filter = ["status", "product", "branch"]
    list_select_related = ["borrower", "product", "branch", "officer"]
    search_fields = ["number", "borrower__name"]
