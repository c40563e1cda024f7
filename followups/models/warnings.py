"""Risk warnings (风险预警): opened by a follow-up with a high risk level or a serious signal, handled by the branch's
risk officers: open → acknowledged → resolved, with the actions taken."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .followups import FollowUp, RiskLevel


class WarningStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


class RiskWarning(models.Model):
    Status = WarningStatus

    loan = models.ForeignKey("postloan.Loan", verbose_name=_("loan"), on_delete=models.PROTECT, related_name="warnings")
    followup = models.ForeignKey(
        FollowUp,
        verbose_name=_("raised by follow-up"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="warnings",
    )
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices)
    signals = models.JSONField(_("risk signals"), default=list, blank=True)
    summary = models.TextField(_("what was found"))
    status = models.CharField(_("status"), max_length=16, choices=WarningStatus.choices, default=WarningStatus.OPEN)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("risk warning")
        verbose_name_plural = _("risk warnings")
        ordering = ["opened_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=WarningStatus.values), name="risk_warning_status_valid"),
            # One warning per follow-up record: completing it again after a return does not open a second one.
            models.UniqueConstraint(
                fields=["followup"], condition=Q(followup__isnull=False), name="risk_warning_once_per_followup"
            ),
        ]
        indexes = [
            # the risk officers' queue: WHERE branch = ? AND status IN (...) ORDER BY opened_at
            models.Index(fields=["branch", "status", "opened_at"], name="risk_warning_queue_idx"),
            # the loan page: WHERE loan = ? AND status != 'resolved'
            models.Index(fields=["loan", "status"], name="risk_warning_loan_idx"),
            # the queue's first page (followups.services.warnings.warnings_queue): WHERE branch = ? AND status IN
            # ('open', 'acknowledged') ORDER BY opened_at, id LIMIT 25, read in order instead of joining every open
            # warning of the branch and sorting them (3,438 at 1,000,000 loans: 41 → 0.5 ms)
            models.Index(
                fields=["branch", "opened_at", "id"],
                name="risk_warning_handling_idx",
                condition=Q(status__in=[WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.level} ({self.status})"


class WarningAction(models.Model):
    """What was done about a warning: an extra follow-up, a restructuring request, an escalation to the manager, or a
    classification change request; `reference` names the object it created (e.g. "restructuring:12")."""

    class Kind(models.TextChoices):
        EXTRA_FOLLOWUP = "extra_followup", _("Extra follow-up")
        RESTRUCTURING = "restructuring", _("Restructuring request")
        ESCALATION = "escalation", _("Escalated to the manager")
        CLASSIFICATION = "classification", _("Classification change request")
        NOTE = "note", _("Note")

    warning = models.ForeignKey(RiskWarning, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("action"), max_length=16, choices=Kind.choices)
    note = models.TextField(_("note"), blank=True)
    reference = models.CharField(_("created"), max_length=100, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("warning action")
        verbose_name_plural = _("warning actions")
        ordering = ["warning", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.warning_id} {self.kind}"
