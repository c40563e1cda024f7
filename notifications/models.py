"""The outbox: one row per message to a borrower or a staff member (DESIGN.md section 6)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimeStampedModel


class OutboxMessage(TimeStampedModel):
    """A message waiting to be sent, being sent, sent or given up on.

    The row is written in the same transaction as the change that causes it; a Celery task sends it after commit and
    the periodic sweep sends whatever is still due (the safety net when the broker was down).
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Audience(models.TextChoices):
        BORROWER = "borrower", _("Borrower")
        STAFF = "staff", _("Staff")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        # No longer wanted when its turn came, e.g. a reminder for an installment paid in the meantime; the reason
        # is in last_error.
        CANCELLED = "cancelled", _("Cancelled")

    idempotency_key = models.CharField(
        _("idempotency key"),
        max_length=200,
        unique=True,
        help_text=_("Identifies the reason for the message, e.g. reminder:<installment>:<offset>; never sent twice."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    audience = models.CharField(
        _("audience"),
        max_length=10,
        choices=Audience.choices,
        default=Audience.BORROWER,
        help_text=_("Quiet hours apply to borrowers only."),
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    to_address = models.CharField(_("to"), max_length=254, help_text=_("Email address or mobile number."))
    template = models.CharField(_("template"), max_length=100)
    context = models.JSONField(_("context"), default=dict, blank=True)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"),
        default=timezone.now,
        help_text=_("The message is not sent before this time; quiet hours and retries push it later."),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    claimed_at = models.DateTimeField(
        _("claimed at"),
        null=True,
        blank=True,
        help_text=_("When a worker started sending it; a long-stale claim is returned to pending by the sweep."),
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["-created_at"]
        indexes = [
            # used by outbox_sweep: pending messages that are due, and sending ones whose claim went stale
            models.Index(
                fields=["status", "next_attempt_at"],
                name="outbox_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            # used by the outbox page: newest first
            models.Index(fields=["-created_at"], name="outbox_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "sending", "sent", "failed", "cancelled"]),
                name="outbox_status_valid",
            ),
            models.CheckConstraint(condition=models.Q(channel__in=["email", "sms"]), name="outbox_channel_valid"),
            models.CheckConstraint(
                condition=models.Q(audience__in=["borrower", "staff"]), name="outbox_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.template} → {self.to_address} ({self.get_status_display()})"
