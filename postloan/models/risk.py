"""Five-category classification: each change by the sweep or a person, and manual classifications (maker-checker)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .loans import Classification, Loan


class ClassificationSource(models.TextChoices):
    SWEEP = "sweep", _("Daily sweep (days past due)")
    MANUAL = "manual", _("Manual classification")
    CLEARED = "cleared", _("Manual classification cleared")


class ClassificationChange(models.Model):
    """One change of a loan's classification: from, to, why, and by the sweep or a person. Never edited."""

    Source = ClassificationSource

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="classification_changes")
    from_class = models.CharField(_("from"), max_length=16, choices=Classification.choices)
    to_class = models.CharField(_("to"), max_length=16, choices=Classification.choices)
    source = models.CharField(_("source"), max_length=16, choices=ClassificationSource.choices)
    reason = models.TextField(_("why"))
    dpd = models.PositiveIntegerField(_("days past due"), default=0)
    business_date = models.DateField(_("business date"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("classification change")
        verbose_name_plural = _("classification changes")
        ordering = ["loan", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_class=models.F("to_class")), name="classification_change_changes"),
            models.CheckConstraint(
                condition=Q(source__in=ClassificationSource.values), name="classification_change_source_valid"
            ),
        ]
        indexes = [
            # the loan's classification history: WHERE loan = ? ORDER BY created_at
            models.Index(fields=["loan", "created_at"], name="classification_change_loan_idx"),
            # the dashboard's migration matrix by month: WHERE business_date BETWEEN ? AND ?
            models.Index(fields=["business_date"], name="classification_change_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.from_class} → {self.to_class}"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CLEARED = "cleared", _("Cleared")


class ClassificationProposal(models.Model):
    """A risk officer proposes a worse category with a reason; a manager (another person) approves or rejects it.

    While approved and not cleared, it is the loan's `manual_classification`: the sweep's floor for that loan.
    """

    Status = ProposalStatus

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="classification_proposals")
    proposed_class = models.CharField(_("proposed classification"), max_length=16, choices=Classification.choices)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("cleared by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    cleared_at = models.DateTimeField(_("cleared at"), null=True, blank=True)
    clear_reason = models.TextField(_("why it was cleared"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("manual classification")
        verbose_name_plural = _("manual classifications")
        ordering = ["-proposed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ProposalStatus.values), name="classification_proposal_status_valid"
            ),
            # One open proposal per loan at a time: a second click or a second officer sees the first one.
            models.UniqueConstraint(
                fields=["loan"], condition=Q(status="proposed"), name="classification_proposal_one_open"
            ),
            # At most one manual classification in force per loan.
            models.UniqueConstraint(
                fields=["loan"], condition=Q(status="approved"), name="classification_proposal_one_in_force"
            ),
        ]
        indexes = [
            # the managers' approval list: WHERE status = 'proposed' ORDER BY proposed_at
            models.Index(fields=["status", "proposed_at"], name="classification_proposal_q_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.proposed_class} ({self.status})"
