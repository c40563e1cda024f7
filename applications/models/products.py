"""Loan products: terms, eligibility rules, required materials and the versioned risk disclosure."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.bilingual import bilingual
from core.models import TimeStampedModel
from core.schedules import ScheduleMethod

from .borrowers import BorrowerKind


class Product(TimeStampedModel):
    # The columns str(product) reads: `.only()` them where a list or a filter shows products by name.
    label_fields = ("name_zh", "name_en")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    description_zh = models.TextField(_("Chinese description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    methods = models.JSONField(
        _("repayment methods"),
        default=list,
        help_text=format_lazy(_("Allowed values: {}"), ", ".join(ScheduleMethod.values)),
    )
    min_amount = models.DecimalField(_("minimum amount"), max_digits=18, decimal_places=2)
    max_amount = models.DecimalField(_("maximum amount"), max_digits=18, decimal_places=2)
    min_term_months = models.PositiveSmallIntegerField(_("minimum term (months)"))
    max_term_months = models.PositiveSmallIntegerField(_("maximum term (months)"))
    min_rate = models.DecimalField(_("minimum annual rate (%)"), max_digits=7, decimal_places=4)
    max_rate = models.DecimalField(_("maximum annual rate (%)"), max_digits=7, decimal_places=4)
    penalty_rate = models.DecimalField(
        _("penalty annual rate (%)"),
        max_digits=7,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Empty: the contract rate × 1.5."),
    )
    borrower_kinds = models.JSONField(
        _("borrower types"),
        default=list,
        help_text=format_lazy(_("Allowed values: {}"), ", ".join(BorrowerKind.values)),
    )
    min_age = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(_("maximum age at maturity"), null=True, blank=True)
    min_monthly_income = models.DecimalField(
        _("minimum monthly income"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    max_dti = models.DecimalField(
        _("maximum debt-to-income (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    requires_collateral = models.BooleanField(_("requires collateral"), default=False)
    requires_guarantor = models.BooleanField(_("requires a guarantor"), default=False)
    sla_initial_review_hours = models.PositiveSmallIntegerField(_("initial review target (hours)"), default=24)
    sla_secondary_review_hours = models.PositiveSmallIntegerField(_("secondary review target (hours)"), default=48)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("loan product")
        verbose_name_plural = _("loan products")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_amount__gt=0, max_amount__gte=models.F("min_amount")),
                name="product_amount_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_term_months__gte=1, max_term_months__gte=models.F("min_term_months")),
                name="product_term_range",
            ),
            models.CheckConstraint(
                condition=models.Q(min_rate__gte=0, max_rate__gte=models.F("min_rate")), name="product_rate_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return bilingual(self.description_zh, self.description_en)

    def clean(self) -> None:
        unknown_methods = set(self.methods or []) - set(ScheduleMethod.values)
        if not self.methods or unknown_methods:
            raise ValidationError({"methods": _("Choose one or more of: %s.") % ", ".join(ScheduleMethod.values)})
        unknown_kinds = set(self.borrower_kinds or []) - set(BorrowerKind.values)
        if not self.borrower_kinds or unknown_kinds:
            raise ValidationError({"borrower_kinds": _("Choose one or more of: %s.") % ", ".join(BorrowerKind.values)})

    def effective_penalty_rate(self, contract_rate: Decimal) -> Decimal:
        """DESIGN.md §3: the product's penalty rate, or the contract rate × 1.5."""
        return self.penalty_rate if self.penalty_rate is not None else contract_rate * Decimal("1.5")

    def current_disclosure(self) -> "RiskDisclosure | None":
        """The newest version; from `prefetch_related("disclosures")` when the caller made one (the application
        page does), else one query."""
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("disclosures")
        if prefetched is not None:
            return max(prefetched, key=lambda disclosure: disclosure.version, default=None)
        return self.disclosures.order_by("-version").first()


class MaterialRequirement(models.Model):
    """One item of a product's materials checklist (e.g. identity card copy, 6 months of bank statements)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="material_requirements")
    code = models.CharField(_("code"), max_length=40)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    is_required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("required material")
        verbose_name_plural = _("required materials")
        ordering = ["product", "position", "code"]
        constraints = [models.UniqueConstraint(fields=["product", "code"], name="material_requirement_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


class RiskDisclosure(models.Model):
    """A version of a product's risk disclosure (风险揭示书). Versions are never edited: a change is a new version."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="disclosures")
    version = models.PositiveSmallIntegerField(_("version"))
    text_zh = models.TextField(_("Chinese text"))
    text_en = models.TextField(_("English text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("risk disclosure")
        verbose_name_plural = _("risk disclosures")
        ordering = ["product", "-version"]
        constraints = [models.UniqueConstraint(fields=["product", "version"], name="disclosure_version_unique")]

    def __str__(self) -> str:
        return f"{self.product.code} v{self.version}"

    @property
    def text(self) -> str:
        return bilingual(self.text_zh, self.text_en)
