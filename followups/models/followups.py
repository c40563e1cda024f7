"""A follow-up (回访): planned for a loan (or, before the loan, an application), done by an officer, reviewed by a
risk officer; with its contact attempts, visit photos, amendments and online questionnaire."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class FollowUpKind(models.TextChoices):
    FIRST = "first", _("First follow-up (D+30)")
    SECOND = "second", _("Second follow-up (D+90)")
    QUARTERLY = "quarterly", _("Quarterly follow-up")
    PRE_MATURITY = "pre_maturity", _("Pre-maturity follow-up (M−30)")
    OVERDUE_CALL = "overdue_call", _("Overdue call")
    EXTRA = "extra", _("Extra follow-up")
    VERIFICATION_CALL = "verification_call", _("Verification call (信息核实)")
    CONSULTATION = "consultation", _("Consultation")


# Kinds the plan creates at disbursement (followups.policy.plan); re-dated when the loan is rescheduled.
PLANNED_KINDS = (FollowUpKind.FIRST, FollowUpKind.SECOND, FollowUpKind.QUARTERLY, FollowUpKind.PRE_MATURITY)
# Kinds that attach to an application during review instead of a loan.
APPLICATION_KINDS = (FollowUpKind.VERIFICATION_CALL, FollowUpKind.CONSULTATION)


class FollowUpStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    COMPLETED = "completed", _("Completed, waiting for review")
    RETURNED = "returned", _("Returned for correction")
    APPROVED = "approved", _("Approved")
    CANCELLED = "cancelled", _("Cancelled")


# Follow-ups still on an officer's list.
OPEN_FOLLOWUP_STATUSES = (FollowUpStatus.PLANNED, FollowUpStatus.RETURNED)


class Subject(models.TextChoices):
    BORROWER = "borrower", _("Borrower")
    GUARANTOR = "guarantor", _("Guarantor")
    AUTHORIZED_REPRESENTATIVE = "authorized_representative", _("Authorized representative")
    COLLATERAL_CUSTODIAN = "collateral_custodian", _("Collateral custodian")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VISIT = "visit", _("Visit (上门走访)")
    QUESTIONNAIRE = "questionnaire", _("Online questionnaire")


class RepaymentAbility(models.TextChoices):
    STABLE = "stable", _("Stable")
    IMPROVED = "improved", _("Improved")
    DECLINING = "declining", _("Declining")
    SEVERE = "severe", _("Severely impaired")


class Willingness(models.TextChoices):
    GOOD = "good", _("Good")
    HESITANT = "hesitant", _("Hesitant")
    REFUSES = "refuses", _("Refuses")


class RiskLevel(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class RiskSignal(models.TextChoices):
    BUSINESS_DECLINE = "business_decline", _("Business decline")
    JOB_LOSS = "job_loss", _("Job loss")
    ILLNESS = "illness", _("Illness")
    LITIGATION = "litigation", _("Litigation")
    GUARANTOR_PROBLEM = "guarantor_problem", _("Guarantor problem")
    COLLATERAL_VALUE_DROP = "collateral_value_drop", _("Collateral value drop")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    FUND_MISUSE = "fund_misuse", _("Funds not used as contracted")


class FollowUp(models.Model):
    """One follow-up. A planned one is unique per (loan, kind, sequence) and an overdue call per (loan, episode), so
    the disbursement task, the daily safety-net sweep and a retry can all try to create it and only one row exists."""

    Kind = FollowUpKind
    Status = FollowUpStatus
    Subject = Subject
    Channel = Channel
    RepaymentAbility = RepaymentAbility
    Willingness = Willingness
    RiskLevel = RiskLevel
    RiskSignal = RiskSignal

    loan = models.ForeignKey(
        "postloan.Loan",
        verbose_name=_("loan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
    )
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="followups",
    )
    kind = models.CharField(_("kind"), max_length=24, choices=FollowUpKind.choices)
    # 1 for most kinds; quarterly follow-ups count 1, 2, 3…; overdue calls count one per overdue episode.
    sequence = models.PositiveSmallIntegerField(_("sequence"), default=1)
    # For an overdue call: the first day of the overdue episode it is for.
    episode_start = models.DateField(_("overdue since"), null=True, blank=True)
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("officer"), on_delete=models.PROTECT, related_name="followups"
    )
    due_on = models.DateField(_("due on"))
    planned_on = models.DateField(_("first planned for"))
    status = models.CharField(
        _("status"), max_length=16, choices=FollowUpStatus.choices, default=FollowUpStatus.PLANNED
    )
    failed_attempts = models.PositiveSmallIntegerField(_("failed contact attempts"), default=0)

    # The record (filled when completed).
    subject = models.CharField(_("who was contacted"), max_length=32, choices=Subject.choices, blank=True)
    subject_name = models.CharField(_("name of the person contacted"), max_length=200, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    question_set = models.ForeignKey(
        "followups.QuestionSet",
        verbose_name=_("question set"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    funds_used_as_contracted = models.BooleanField(_("funds used as contracted"), null=True, blank=True)
    repayment_ability = models.CharField(
        _("repayment ability"), max_length=16, choices=RepaymentAbility.choices, blank=True
    )
    willingness = models.CharField(_("willingness to repay"), max_length=16, choices=Willingness.choices, blank=True)
    risk_signals = models.JSONField(_("risk signals"), default=list, blank=True)
    risk_level = models.CharField(_("overall risk level"), max_length=8, choices=RiskLevel.choices, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    next_steps = models.TextField(_("next steps"), blank=True)
    # Visits.
    location = models.CharField(_("location"), max_length=300, blank=True)
    attendees = models.CharField(_("attendees"), max_length=300, blank=True)

    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("completed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    # Set once when a follow-up more than 3 days late is escalated to the branch manager.
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on", "pk"]
        constraints = [
            # The plan's follow-ups: the disbursement task, the safety-net sweep and retries all try to create them.
            models.UniqueConstraint(
                fields=["loan", "kind", "sequence"],
                condition=Q(loan__isnull=False, kind__in=["first", "second", "quarterly", "pre_maturity"]),
                name="followup_once_per_loan_kind",
            ),
            # One overdue call per overdue episode of a loan.
            models.UniqueConstraint(
                fields=["loan", "episode_start"],
                condition=Q(kind="overdue_call"),
                name="followup_overdue_call_once_per_episode",
            ),
            models.CheckConstraint(
                condition=~Q(kind="overdue_call") | Q(episode_start__isnull=False), name="followup_overdue_call_episode"
            ),
            models.CheckConstraint(
                condition=Q(loan__isnull=False) | Q(application__isnull=False), name="followup_has_loan_or_application"
            ),
            models.CheckConstraint(condition=Q(status__in=FollowUpStatus.values), name="followup_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=FollowUpKind.values), name="followup_kind_valid"),
        ]
        indexes = [
            # the officer's "today" lists and counts: WHERE officer = ? AND branch = ? (the scope) AND status = ?
            # AND due_on … ORDER BY due_on, id; with the branch in the index the scope is no second bitmap over the
            # branch's 1.4 M follow-ups (65 → 11 ms for the counts of the busiest officer at 1M loans)
            models.Index(fields=["officer", "branch", "status", "due_on", "id"], name="followup_officer_today_idx"),
            # the branch team view and the late-escalation sweep: WHERE branch = ? AND status = ? AND due_on < ?
            models.Index(fields=["branch", "status", "due_on"], name="followup_branch_status_idx"),
            # the loan page and the planning safety net: WHERE loan = ?
            models.Index(fields=["loan", "kind"], name="followup_loan_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"


class ContactAttempt(models.Model):
    """A try to reach the subject that did not become a record: logged with its time; three raise `lost contact`."""

    class Outcome(models.TextChoices):
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        REFUSED = "refused", _("Refused to talk")

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="attempts")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    # Calls outside 08:00–21:00 Shanghai are flagged: they are not reasonable hours to call a borrower.
    outside_hours = models.BooleanField(_("outside reasonable hours"), default=False)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        ordering = ["followup", "attempted_at", "pk"]

    def __str__(self) -> str:
        return f"{self.followup_id} {self.outcome}"


def photo_upload_path(instance: "FollowUpPhoto", filename: str) -> str:
    extension = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}.get(instance.content_type, "")
    return f"followups/{instance.followup_id}/{secrets.token_hex(16)}{extension}"


class FollowUpPhoto(models.Model):
    """A photo (or scan) from a visit; checked by content, stored under a random name, served by a checked view."""

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(_("file"), upload_to=photo_upload_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("file type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("visit photo")
        verbose_name_plural = _("visit photos")
        ordering = ["followup", "pk"]

    def __str__(self) -> str:
        return self.original_name


class FollowUpAmendment(models.Model):
    """A correction to an approved record, kept beside it: approved records are never edited."""

    followup = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="amendments")
    text = models.TextField(_("correction"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("amendment")
        verbose_name_plural = _("amendments")
        ordering = ["followup", "created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.followup_id} {self.created_at:%Y-%m-%d}"


def _new_token() -> str:
    return secrets.token_urlsafe(32)


class Questionnaire(models.Model):
    """An online questionnaire sent to the borrower for a follow-up; answered through a signed link (or the portal)."""

    followup = models.OneToOneField(FollowUp, on_delete=models.CASCADE, related_name="questionnaire")
    token = models.CharField(_("link token"), max_length=64, unique=True, default=_new_token)
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    expires_at = models.DateTimeField(_("link expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answers = models.JSONField(_("answers"), default=dict, blank=True)

    class Meta:
        verbose_name = _("online questionnaire")
        verbose_name_plural = _("online questionnaires")

    def __str__(self) -> str:
        return f"{self.followup_id}"
