"""Post-loan tables in the Django admin, read-only: money and status change only through the services."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Allocation,
    Contract,
    Disbursement,
    Installment,
    Loan,
    LoanEvent,
    PenaltyAccrual,
    Repayment,
    RepaymentReversal,
    ScheduleVersion,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyHistoryAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    """For the tables with history: the history page shows who changed what and when."""


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """For append-only tables: their rows carry who and when themselves."""


@admin.register(Contract)
class ContractAdmin(ReadOnlyHistoryAdmin):
    list_display = ["number", "borrower", "amount", "annual_rate", "term_months", "method", "status", "branch"]
    list_filter = ["status", "method", "branch"]
    list_select_related = ["borrower", "branch"]
    search_fields = ["number", "borrower__name"]


@admin.register(Disbursement)
class DisbursementAdmin(ReadOnlyHistoryAdmin):
    list_display = ["contract", "amount", "disbursed_on", "bank_name", "account_masked", "bank_reference", "status"]
    list_filter = ["status", "disbursed_on"]
    list_select_related = ["contract"]
    search_fields = ["contract__number", "bank_reference"]
    # The full account number never appears here: only its masked copy.
    fields = [
        "contract",
        "amount",
        "disbursed_on",
        "bank_name",
        "account_masked",
        "bank_reference",
        "status",
        "prepared_by",
        "prepared_at",
        "confirmed_by",
        "confirmed_at",
    ]
    readonly_fields = ["account_masked"]


class InstallmentInline(ReadOnlyMixin, admin.TabularInline):
    model = Installment
    extra = 0
    fields = [
        "version",
        "number",
        "due_date",
        "principal_due",
        "interest_due",
        "interest_waived",
        "penalty_accrued",
        "principal_paid",
        "interest_paid",
        "penalty_paid",
        "status",
        "paid_on",
    ]
    readonly_fields = fields


@admin.register(Loan)
class LoanAdmin(ReadOnlyHistoryAdmin):
    list_display = [
        "number",
        "borrower",
        "principal",
        "outstanding_principal",
        "status",
        "dpd",
        "bucket",
        "classification",
        "next_due_date",
        "branch",
        "officer",
    ]
    list_filter = ["status", "bucket", "classification", "restructured", "branch"]
    list_select_related = ["borrower", "branch", "officer"]
    search_fields = ["number", "borrower__name"]
    inlines = [InstallmentInline]


@admin.register(ScheduleVersion)
class ScheduleVersionAdmin(ReadOnlyAdmin):
    list_display = ["loan", "version", "reason", "created_by", "created_at"]
    list_filter = ["reason"]
    list_select_related = ["loan", "created_by"]
    search_fields = ["loan__number"]


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["loan", "number", "due_date", "principal_due", "interest_due", "penalty_accrued", "status"]
    list_filter = ["status", "due_date"]
    list_select_related = ["loan"]
    search_fields = ["loan__number"]


@admin.register(Repayment)
class RepaymentAdmin(ReadOnlyHistoryAdmin):
    list_display = ["reference", "loan", "amount", "paid_on", "channel", "kind", "posted_by", "is_reversed"]
    list_filter = ["channel", "kind", "is_reversed", "paid_on"]
    list_select_related = ["loan", "posted_by"]
    search_fields = ["reference", "loan__number"]


@admin.register(RepaymentReversal)
class RepaymentReversalAdmin(ReadOnlyAdmin):
    list_display = ["repayment", "reversed_by", "reversed_at", "reason"]
    list_select_related = ["repayment", "reversed_by"]
    search_fields = ["repayment__reference"]


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyAdmin):
    list_display = [
        "repayment",
        "installment",
        "penalty",
        "interest",
        "principal",
        "to_credit",
        "generation",
        "is_active",
    ]
    list_filter = ["is_active"]
    list_select_related = ["repayment", "installment"]
    search_fields = ["repayment__reference", "loan__number"]


@admin.register(PenaltyAccrual)
class PenaltyAccrualAdmin(ReadOnlyAdmin):
    list_display = ["loan", "installment", "accrual_date", "overdue_principal", "penalty_rate", "amount"]
    list_filter = ["accrual_date"]
    list_select_related = ["loan", "installment"]
    search_fields = ["loan__number"]


@admin.register(LoanEvent)
class LoanEventAdmin(ReadOnlyAdmin):
    list_display = ["loan", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["loan", "actor"]
    search_fields = ["loan__number"]
