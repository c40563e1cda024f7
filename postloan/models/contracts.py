"""The loan contract (借款合同) and the disbursement (放款), each prepared by one person and confirmed by another."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from applications.models import TransitionError
from core.fields import EncryptedTextField
from core.models import TimeStampedModel
from core.schedules import ScheduleMethod

from .base import money_field, rate_field, record_history


class ContractStatus(models.TextChoices):
    PREPARED = "prepared", _("Prepared, waiting for confirmation")
    SIGNED = "signed", _("Signed")
    CANCELLED = "cancelled", _("Cancelled")


class DisbursementStatus(models.TextChoices):
    PREPARED = "prepared", _("Prepared, waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")


class Contract(TimeStampedModel):
    """The terms the borrower signs, copied from the approved application so later edits there cannot change them."""

    number = models.CharField(_("contract number"), max_length=20, unique=True)
    application = models.OneToOneField(
        "applications.Application", verbose_name=_("application"), on_delete=models.PROTECT, related_name="contract"
    )
    borrower = models.ForeignKey(
        "applications.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="contracts"
    )
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("loan officer"), on_delete=models.PROTECT, related_name="+"
    )
    amount = money_field(_("amount"))
    annual_rate = rate_field(_("annual rate (%)"))
    term_months = models.PositiveSmallIntegerField(_("term (months)"))
    method = models.CharField(_("repayment method"), max_length=20, choices=ScheduleMethod.choices)
    first_due_date = models.DateField(_("first due date"))
    repayment_day = models.PositiveSmallIntegerField(_("repayment day of the month"))
    maturity_date = models.DateField(_("maturity date"))
    penalty_rate = rate_field(_("penalty annual rate (%)"))
    parties = models.JSONField(_("related parties at signing"), default=list, blank=True)
    collateral = models.JSONField(_("collateral at signing"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.PREPARED
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loan contract")
        verbose_name_plural = _("loan contracts")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ContractStatus.values), name="contract_status_valid"),
            models.CheckConstraint(condition=models.Q(method__in=ScheduleMethod.values), name="contract_method_valid"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="contract_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(annual_rate__gte=0, penalty_rate__gte=0), name="contract_rates_not_negative"
            ),
            models.CheckConstraint(condition=models.Q(term_months__gte=1), name="contract_term_positive"),
            models.CheckConstraint(
                condition=models.Q(repayment_day__gte=1, repayment_day__lte=31), name="contract_repayment_day_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ContractStatus.SIGNED)
                | models.Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="contract_signed_has_checker",
            ),
        ]
        indexes = [
            # "contracts waiting for my confirmation": WHERE branch = ? AND status = 'prepared'
            models.Index(fields=["branch", "status"], name="contract_branch_status_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def sign(self, *, by) -> None:
        """prepared → signed, by the checker; zero rows updated means someone else confirmed or cancelled it first."""
        if self.status != ContractStatus.PREPARED:
            raise TransitionError(
                gettext("This is not possible while the contract is “%(status)s”.")
                % {"status": self.get_status_display()}
            )
        now = timezone.now()
        updated = Contract.objects.filter(pk=self.pk, status=ContractStatus.PREPARED).update(
            status=ContractStatus.SIGNED, confirmed_by=by, confirmed_at=now, updated_at=now
        )
        if not updated:
            raise TransitionError(gettext("Someone else has just changed this contract. Nothing was saved."))
        self.status, self.confirmed_by, self.confirmed_at, self.updated_at = ContractStatus.SIGNED, by, now, now
        record_history(self, by)


class Disbursement(TimeStampedModel):
    """The transfer of the contract amount to the borrower's account, recorded by one person, confirmed by another."""

    contract = models.OneToOneField(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="disbursement"
    )
    amount = money_field(_("amount"))
    disbursed_on = models.DateField(_("disbursed on"))
    bank_name = models.CharField(_("bank"), max_length=100)
    account_number = EncryptedTextField(_("account number"))
    account_masked = models.CharField(_("account number"), max_length=32, editable=False)
    bank_reference = models.CharField(_("bank reference"), max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=DisbursementStatus.choices, default=DisbursementStatus.PREPARED
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), on_delete=models.PROTECT, related_name="+"
    )
    prepared_at = models.DateTimeField(_("prepared at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["account_number"])

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DisbursementStatus.values), name="disbursement_status_valid"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="disbursement_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status=DisbursementStatus.CONFIRMED)
                | models.Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="disbursement_confirmed_has_checker",
            ),
        ]
        indexes = [
            # the confirmation queue: WHERE status = 'prepared' ORDER BY prepared_at
            models.Index(
                fields=["prepared_at"],
                name="disbursement_queue_idx",
                condition=models.Q(status=DisbursementStatus.PREPARED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.bank_reference}"

    def clean(self) -> None:
        if self.contract_id and self.amount != self.contract.amount:
            raise ValidationError({"amount": _("The disbursed amount must equal the contract amount.")})

    def confirm(self, *, by) -> None:
        """prepared → confirmed, by the checker; zero rows updated means someone else confirmed it first."""
        if self.status != DisbursementStatus.PREPARED:
            raise TransitionError(gettext("This disbursement has already been confirmed."))
        now = timezone.now()
        updated = Disbursement.objects.filter(pk=self.pk, status=DisbursementStatus.PREPARED).update(
            status=DisbursementStatus.CONFIRMED, confirmed_by=by, confirmed_at=now, updated_at=now
        )
        if not updated:
            raise TransitionError(gettext("Someone else has just confirmed this disbursement. Nothing was saved."))
        self.status, self.confirmed_by, self.confirmed_at, self.updated_at = DisbursementStatus.CONFIRMED, by, now, now
        record_history(self, by)
