"""Borrowers' inquiries (咨询) with their promised reply time, the staff's reply library, and satisfaction surveys
(满意度调查) offered after an answered inquiry or a completed follow-up."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .followups import FollowUp


class InquiryCategory(models.TextChoices):
    PROGRESS = "progress", _("Application progress")
    REPAYMENT = "repayment", _("Repayment")
    PRODUCT = "product", _("Product")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class InquiryStatus(models.TextChoices):
    OPEN = "open", _("Waiting for a reply")
    ANSWERED = "answered", _("Answered")


class Inquiry(models.Model):
    """A borrower's question from the portal, routed to one person with a reply due time in working hours."""

    Category = InquiryCategory
    Status = InquiryStatus

    number = models.CharField(_("inquiry number"), max_length=20, unique=True)
    borrower = models.ForeignKey(
        "applications.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="inquiries"
    )
    # What it is about, when the borrower chose one of their applications or loans.
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    loan = models.ForeignKey(
        "postloan.Loan", verbose_name=_("loan"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    category = models.CharField(_("category"), max_length=16, choices=InquiryCategory.choices)
    question = models.TextField(_("question"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="inquiries"
    )
    status = models.CharField(_("status"), max_length=16, choices=InquiryStatus.choices, default=InquiryStatus.OPEN)
    created_at = models.DateTimeField(_("asked at"), default=timezone.now)
    target_hours = models.PositiveSmallIntegerField(_("reply target (working hours)"))
    due_at = models.DateTimeField(_("reply due by"))
    answered_at = models.DateTimeField(_("first reply at"), null=True, blank=True)
    # Working time from the question to the first reply, for the service dashboard.
    response_minutes = models.PositiveIntegerField(_("response time (working minutes)"), null=True, blank=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-created_at"]
        indexes = [
            # the staff inbox: WHERE branch = ? AND status = ? ORDER BY due_at
            models.Index(fields=["branch", "status", "due_at"], name="inquiry_inbox_idx"),
            # "my inquiries": WHERE assignee = ? AND status = 'open'
            models.Index(fields=["assignee", "status"], name="inquiry_assignee_idx"),
            # the portal's list: WHERE borrower = ? ORDER BY created_at DESC
            models.Index(fields=["borrower", "-created_at"], name="inquiry_borrower_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=InquiryCategory.values), name="inquiry_category_valid"),
            models.CheckConstraint(condition=Q(status__in=InquiryStatus.values), name="inquiry_status_valid"),
            models.CheckConstraint(
                condition=Q(status="open", answered_at__isnull=True) | Q(status="answered", answered_at__isnull=False),
                name="inquiry_answered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_breached(self) -> bool:
        """Replied late, or still waiting after the due time."""
        return (self.answered_at or timezone.now()) > self.due_at


class InquiryReply(models.Model):
    """A staff reply to an inquiry, shown to the borrower; replies are never edited."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("replied by"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("reply"))
    template = models.ForeignKey(
        "followups.ReplyTemplate",
        verbose_name=_("from the reply library"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("replied at"), default=timezone.now)

    class Meta:
        verbose_name = _("inquiry reply")
        verbose_name_plural = _("inquiry replies")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.inquiry_id} {self.created_at:%Y-%m-%d %H:%M}"


class ReplyTemplate(models.Model):
    """A reply from the library (话术库) with placeholders such as {borrower_name} and {next_due_amount}, filled in
    the borrower's language when an officer picks it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    category = models.CharField(
        _("category"),
        max_length=16,
        choices=InquiryCategory.choices,
        blank=True,
        help_text=_("Offered first for inquiries of this category; empty for any."),
    )
    title_zh = models.CharField(_("Chinese title"), max_length=100)
    title_en = models.CharField(_("English title"), max_length=100)
    body_zh = models.TextField(_("Chinese text"))
    body_en = models.TextField(_("English text"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.title_zh

    def title_in(self, language: str | None) -> str:
        return self.title_en if language == "en" else self.title_zh

    def body_in(self, language: str | None) -> str:
        return self.body_en if language == "en" else self.body_zh


class SatisfactionSurvey(models.Model):
    """A borrower's 1–5 rating of an answered inquiry or a completed follow-up; one per subject."""

    class Channel(models.TextChoices):
        INQUIRY = "inquiry", _("Online inquiry")
        PHONE = "phone", _("Phone follow-up")
        VISIT = "visit", _("Visit")
        QUESTIONNAIRE = "questionnaire", _("Online questionnaire")

    borrower = models.ForeignKey(
        "applications.Borrower", verbose_name=_("borrower"), on_delete=models.PROTECT, related_name="surveys"
    )
    inquiry = models.OneToOneField(
        Inquiry, verbose_name=_("inquiry"), null=True, blank=True, on_delete=models.PROTECT, related_name="survey"
    )
    followup = models.OneToOneField(
        FollowUp, verbose_name=_("follow-up"), null=True, blank=True, on_delete=models.PROTECT, related_name="survey"
    )
    # Who was rated and through which channel, copied for the dashboard (by officer, by channel).
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("officer"), on_delete=models.PROTECT, related_name="+"
    )
    branch = models.ForeignKey("accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-created_at"]
        indexes = [
            # the service dashboard: WHERE branch = ? AND created_at BETWEEN ... GROUP BY officer, channel
            models.Index(fields=["branch", "created_at"], name="survey_branch_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="survey_rating_1_to_5"),
            # exactly one subject
            models.CheckConstraint(
                condition=Q(inquiry__isnull=False, followup__isnull=True)
                | Q(inquiry__isnull=True, followup__isnull=False),
                name="survey_one_subject",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.borrower} {self.rating}/5"
