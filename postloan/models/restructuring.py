"""Restructuring (调整还款计划): a request with its options, approved by a risk officer and then a manager."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.schedules import ScheduleMethod

from .base import rate_field
from .loans import Loan, ScheduleVersion


class RestructuringStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for the risk officer")
    RISK_APPROVED = "risk_approved", _("Waiting for the manager")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_RESTRUCTURING_STATUSES = (RestructuringStatus.REQUESTED, RestructuringStatus.RISK_APPROVED)


class Restructuring(models.Model):
    """A request to change the repayment schedule of a loan. The options are kept as asked; approving builds schedule
    version N+1 from the outstanding principal on `effective_on` (the old versions stay)."""

    Status = RestructuringStatus

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="restructurings")
    status = models.CharField(
        _("status"), max_length=16, choices=RestructuringStatus.choices, default=RestructuringStatus.REQUESTED
    )
    reason = models.TextField(_("reason"))
    # The options (any combination; at least one): extend the term, change the method, an interest-only grace
    # period at the start of the new schedule, a lower rate.
    extend_months = models.PositiveSmallIntegerField(_("extend the term by (months)"), default=0)
    new_method = models.CharField(_("new repayment method"), max_length=20, choices=ScheduleMethod.choices, blank=True)
    grace_months = models.PositiveSmallIntegerField(_("interest-only months"), default=0)
    new_rate = rate_field(_("new annual rate (%)"), null=True, blank=True)
    first_due_date = models.DateField(_("first due date of the new schedule"))
    # Where it came from: an officer's request, or (followups) a risk warning; kept as a plain reference.
    source_note = models.CharField(_("requested from"), max_length=200, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    risk_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("risk officer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    risk_approved_at = models.DateTimeField(_("risk officer approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rejected by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    new_version = models.OneToOneField(
        ScheduleVersion,
        verbose_name=_("new schedule version"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="restructuring",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("restructuring")
        verbose_name_plural = _("restructurings")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RestructuringStatus.values), name="restructuring_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(extend_months__gt=0)
                | ~Q(new_method="")
                | Q(grace_months__gt=0)
                | Q(new_rate__isnull=False),
                name="restructuring_has_an_option",
            ),
            # One open request per loan: a double click or a second officer finds the first one.
            models.UniqueConstraint(
                fields=["loan"],
                condition=Q(status__in=["requested", "risk_approved"]),
                name="restructuring_one_open_per_loan",
            ),
        ]
        indexes = [
            # the risk officers' and managers' lists: WHERE status = ? ORDER BY requested_at
            models.Index(fields=["status", "requested_at"], name="restructuring_queue_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.status}"
