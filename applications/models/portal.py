"""A borrower's own sign-in to the portal: the invitation an officer sends and the codes that reset a password.

Only a hash of each token or code is stored, so a database copy does not let anyone sign in as a borrower.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .borrowers import Borrower


class PortalInvitation(models.Model):
    """A one-time link to set a portal password, sent by SMS (and email where the borrower gave one)."""

    borrower = models.ForeignKey(
        Borrower, verbose_name=_("borrower"), on_delete=models.CASCADE, related_name="portal_invitations"
    )
    token_hash = models.CharField(_("link hash"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("link expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("portal invitation")
        verbose_name_plural = _("portal invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.borrower} {self.created_at:%Y-%m-%d}"


class PortalResetCode(models.Model):
    """A six-digit code that lets a borrower set a new password; sent to the phone or the email on file."""

    class Channel(models.TextChoices):
        SMS = "sms", _("SMS")
        EMAIL = "email", _("Email")

    borrower = models.ForeignKey(
        Borrower, verbose_name=_("borrower"), on_delete=models.CASCADE, related_name="portal_reset_codes"
    )
    channel = models.CharField(_("sent by"), max_length=8, choices=Channel.choices)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong codes entered"), default=0)

    class Meta:
        verbose_name = _("password reset code")
        verbose_name_plural = _("password reset codes")
        ordering = ["-created_at"]
        indexes = [
            # the reset form: the borrower's newest unused code
            models.Index(fields=["borrower", "-created_at"], name="portal_reset_code_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.borrower} {self.created_at:%Y-%m-%d %H:%M}"
