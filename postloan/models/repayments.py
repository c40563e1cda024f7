"""Repayments, their reversals, and the allocation of each repayment to installments (never deleted)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .base import ZERO, money_field
from .loans import Installment, Loan


class RepaymentChannel(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    AUTO_DEBIT = "auto_debit", _("Automatic debit")


class OpeningChannel(models.TextChoices):
    """Channels of repayments that LoanTrack writes itself, never offered to anyone posting money: the repayment
    forms and `clean_channel` use RepaymentChannel only. MIGRATED is the one repayment that stands for what the
    borrower of a migrated loan paid before the loan came to LoanTrack (`postloan.services.migration`)."""

    MIGRATED = "migrated", _("Paid before migration to LoanTrack")


CHANNEL_CHOICES = RepaymentChannel.choices + OpeningChannel.choices


class RepaymentKind(models.TextChoices):
    REGULAR = "regular", _("Regular repayment")
    PAYOFF = "payoff", _("Payoff (early settlement)")


class Repayment(models.Model):
    """Money received from the borrower. The unique reference makes posting idempotent: the same bank reference
    posted twice is one repayment. A mistake is corrected by a reversal, never by editing or deleting the row."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="repayments")
    reference = models.CharField(_("reference"), max_length=64, unique=True)
    amount = money_field(_("amount"))
    paid_on = models.DateField(_("paid on"))
    channel = models.CharField(_("channel"), max_length=16, choices=CHANNEL_CHOICES)
    kind = models.CharField(_("kind"), max_length=8, choices=RepaymentKind.choices, default=RepaymentKind.REGULAR)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("posted by"), on_delete=models.PROTECT, related_name="+"
    )
    posted_at = models.DateTimeField(_("posted at"), default=timezone.now)
    is_reversed = models.BooleanField(_("reversed"), default=False)

    history = HistoricalRecords()

    # Not a column: True on the repayment a posting service hands back for a reference already posted (an
    # idempotent replay, such as a double click), so the page says nothing new was recorded.
    was_posted_before = False

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["paid_on", "posted_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
            models.CheckConstraint(
                condition=Q(channel__in=[value for value, _label in CHANNEL_CHOICES]), name="repayment_channel_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=RepaymentKind.values), name="repayment_kind_valid"),
        ]
        indexes = [
            # the loan's repayments, and re-applying them in order: WHERE loan = ? ORDER BY paid_on, posted_at
            models.Index(fields=["loan", "paid_on", "posted_at"], name="repayment_loan_idx"),
        ]

    def __str__(self) -> str:
        return self.reference


class RepaymentReversal(models.Model):
    """Who took a repayment back, when and why (e.g. a bounced transfer); a different person from the poster."""

    repayment = models.OneToOneField(
        Repayment, verbose_name=_("repayment"), on_delete=models.PROTECT, related_name="reversal"
    )
    reason = models.TextField(_("reason"))
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reversed by"), on_delete=models.PROTECT, related_name="+"
    )
    reversed_at = models.DateTimeField(_("reversed at"), default=timezone.now)

    class Meta:
        verbose_name = _("repayment reversal")
        verbose_name_plural = _("repayment reversals")
        ordering = ["-reversed_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="repayment_reversal_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.repayment} reversed"


class Allocation(models.Model):
    """The part of a repayment that paid one installment's penalty, interest and principal, or that changed the
    loan's credit balance (a row without installment: positive keeps an overpayment, negative uses earlier credit).

    Rows are never updated except to retire them: a reversal recomputes the loan's allocations from scratch, marks
    the active rows inactive (`superseded_at`) and writes new ones with the next `generation`. For every repayment,
    the sum of its active rows equals its amount (zero once it is reversed).
    """

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="allocations")
    repayment = models.ForeignKey(Repayment, on_delete=models.PROTECT, related_name="allocations")
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    penalty = money_field(_("penalty"), default=ZERO)
    interest = money_field(_("interest"), default=ZERO)
    principal = money_field(_("principal"), default=ZERO)
    to_credit = money_field(_("to credit balance"), default=ZERO)
    generation = models.PositiveIntegerField(_("generation"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["repayment", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(penalty__gte=0, interest__gte=0, principal__gte=0), name="allocation_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(installment__isnull=True, penalty=0, interest=0, principal=0)
                | Q(installment__isnull=False, to_credit=0),
                name="allocation_installment_or_credit",
            ),
            models.CheckConstraint(
                condition=Q(is_active=True, superseded_at__isnull=True)
                | Q(is_active=False, superseded_at__isnull=False),
                name="allocation_superseded_dated",
            ),
        ]
        indexes = [
            # the credit balance and the recompute: WHERE loan = ? AND is_active
            models.Index(fields=["loan"], name="allocation_active_loan_idx", condition=Q(is_active=True)),
            # what paid an installment: WHERE installment = ? AND is_active
            models.Index(fields=["installment"], name="allocation_active_inst_idx", condition=Q(is_active=True)),
            # a repayment's allocation on its page, current and superseded: WHERE repayment = ?
            models.Index(fields=["repayment", "generation"], name="allocation_repayment_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.repayment_id} → {self.installment_id or 'credit'} (g{self.generation})"

    @property
    def total(self) -> Decimal:
        return self.penalty + self.interest + self.principal + self.to_credit
