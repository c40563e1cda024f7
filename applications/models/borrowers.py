"""Borrowers (KYC) and the internal block list."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.crypto import keyed_hash
from core.fields import EncryptedTextField
from core.identity import validate_mobile
from core.masking import mask_identity_number
from core.models import TimeStampedModel


class BorrowerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    SOLE_PROPRIETOR = "sole_proprietor", _("Sole proprietor (个体工商户)")
    COMPANY = "company", _("Company")


class IdentityType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("PRC resident identity card")
    PASSPORT = "passport", _("Passport")
    USCC = "uscc", _("Unified social credit code")


class IdentityMixin(models.Model):
    """An identity number stored encrypted, with a keyed hash for exact lookup and a masked copy for display."""

    identity_type = models.CharField(_("identity type"), max_length=16, choices=IdentityType.choices)
    identity_number = EncryptedTextField(_("identity number"))
    identity_hash = models.CharField(_("identity hash"), max_length=64, editable=False)
    identity_masked = models.CharField(_("identity number"), max_length=32, editable=False)

    class Meta:
        abstract = True

    def set_identity(self, identity_type: str, number: str) -> None:
        """Set all three identity columns from a validated, normalised number."""
        self.identity_type = identity_type
        self.identity_number = number
        self.identity_hash = identity_lookup_hash(identity_type, number)
        self.identity_masked = mask_identity_number(number)


def identity_lookup_hash(identity_type: str, number: str) -> str:
    """The keyed hash that finds a borrower by exact identity number without decrypting anything."""
    return keyed_hash(f"{identity_type}:{number}")


class Borrower(IdentityMixin, TimeStampedModel):
    kind = models.CharField(_("borrower type"), max_length=16, choices=BorrowerKind.choices)
    name = models.CharField(_("name"), max_length=200)
    legal_representative = models.CharField(_("legal representative"), max_length=100, blank=True)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    mobile = models.CharField(_("mobile number"), max_length=20, validators=[validate_mobile])
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=300)
    employer = models.CharField(_("employer or business"), max_length=200, blank=True)
    monthly_income = models.DecimalField(
        _("monthly income (yuan)"), max_digits=18, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    monthly_debt_payments = models.DecimalField(
        _("existing monthly debt payments (yuan)"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    years_at_job = models.PositiveSmallIntegerField(_("years at job or business"), default=0)
    branch = models.ForeignKey(
        "accounts.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="borrowers"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    # The borrower's own sign-in for the portal (issue 7); empty until they are invited.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="borrower_profile",
    )

    # Contact preferences the borrower sets on the portal. Repayment reminders go only by a channel consented to;
    # the preferred window is shown to the officer who calls (follow-ups), it does not block a call.
    sms_reminders = models.BooleanField(_("repayment reminders by SMS"), default=True)
    email_reminders = models.BooleanField(_("repayment reminders by email"), default=True)
    contact_from_hour = models.PositiveSmallIntegerField(_("best time to call, from (hour)"), default=9)
    contact_to_hour = models.PositiveSmallIntegerField(_("best time to call, until (hour)"), default=18)

    history = HistoricalRecords(excluded_fields=["identity_number"])

    class Meta:
        verbose_name = _("borrower")
        verbose_name_plural = _("borrowers")
        ordering = ["-created_at"]
        constraints = [
            # Duplicate detection: one borrower per identity, whatever branch took them in.
            models.UniqueConstraint(fields=["identity_type", "identity_hash"], name="borrower_identity_unique"),
            models.CheckConstraint(condition=models.Q(kind__in=BorrowerKind.values), name="borrower_kind_valid"),
            models.CheckConstraint(
                condition=models.Q(monthly_income__gte=0, monthly_debt_payments__gte=0),
                name="borrower_money_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(contact_from_hour__lt=models.F("contact_to_hour"), contact_to_hour__lte=24),
                name="borrower_contact_window_valid",
            ),
        ]
        indexes = [
            # the officer's search by mobile number
            models.Index(fields=["mobile"], name="borrower_mobile_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def message_language(self) -> str:
        """The language to write to the borrower in: their portal choice, else the site's default."""
        return self.user.preferred_language if self.user_id else settings.LANGUAGE_CODE

    @property
    def is_person(self) -> bool:
        return self.kind != BorrowerKind.COMPANY


class BlockListEntry(TimeStampedModel):
    """An identity the lender will not lend to (internal block list); matched by keyed hash only."""

    identity_type = models.CharField(_("identity type"), max_length=16, choices=IdentityType.choices)
    identity_hash = models.CharField(_("identity hash"), max_length=64)
    identity_masked = models.CharField(_("identity number"), max_length=32)
    reason = models.CharField(_("reason"), max_length=300)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("added by"), on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("block list entry")
        verbose_name_plural = _("block list")
        constraints = [
            models.UniqueConstraint(fields=["identity_type", "identity_hash"], name="blocklist_identity_unique")
        ]

    def __str__(self) -> str:
        return self.identity_masked
