"""What officers work from: the per-product follow-up policy, the question checklists and the script library."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.bilingual import bilingual
from core.models import TimeStampedModel


class FollowUpPolicy(TimeStampedModel):
    """A product's overrides of the default plan (DESIGN.md §5: D+30, D+90, M−30, quarterly over 12 months, 15 days)."""

    product = models.OneToOneField(
        "applications.Product", verbose_name=_("product"), on_delete=models.CASCADE, related_name="followup_policy"
    )
    first_after_days = models.PositiveSmallIntegerField(_("first follow-up, days after disbursement"), default=30)
    second_after_days = models.PositiveSmallIntegerField(_("second follow-up, days after disbursement"), default=90)
    pre_maturity_days = models.PositiveSmallIntegerField(_("pre-maturity follow-up, days before maturity"), default=30)
    quarterly = models.BooleanField(_("quarterly follow-ups for terms over 12 months"), default=True)
    collision_days = models.PositiveSmallIntegerField(_("keep planned dates at least this many days apart"), default=15)

    class Meta:
        verbose_name = _("follow-up policy")
        verbose_name_plural = _("follow-up policies")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_after_days__gt=0, second_after_days__gt=0, pre_maturity_days__gt=0),
                name="followup_policy_days_positive",
            ),
        ]

    def __str__(self) -> str:
        return str(self.product)


class QuestionSet(TimeStampedModel):
    """The standard checklist for one follow-up kind; the active set of a kind is the one used for new records."""

    kind = models.CharField(_("follow-up kind"), max_length=24)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("question set")
        verbose_name_plural = _("question sets")
        ordering = ["kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_active=True), name="question_set_one_active_per_kind"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return bilingual(self.name_zh, self.name_en)


class Question(models.Model):
    """One checklist question; `code` is the key of its answer in FollowUp.answers."""

    class AnswerType(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no")
        CHOICE = "choice", _("One of the choices")
        TEXT = "text", _("Text")

    question_set = models.ForeignKey(QuestionSet, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=40)
    text_zh = models.CharField(_("Chinese question"), max_length=300)
    text_en = models.CharField(_("English question"), max_length=300)
    answer_type = models.CharField(_("answer type"), max_length=8, choices=AnswerType.choices, default=AnswerType.TEXT)
    # For CHOICE: [{"value": "stable", "zh": "稳定", "en": "Stable"}, ...]
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["question_set", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["question_set", "code"], name="question_code_unique_in_set")]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return bilingual(self.text_zh, self.text_en)


class ScriptTemplate(TimeStampedModel):
    """A call script or reply template (话术) in both languages, with {placeholders} filled when shown."""

    class Category(models.TextChoices):
        FOLLOWUP = "followup", _("Follow-up script")
        PROGRESS = "progress", _("Progress inquiry")
        PRODUCT = "product", _("Product inquiry")
        REPAYMENT = "repayment", _("Repayment")
        SOFT_COLLECTION = "soft_collection", _("Overdue soft collection")
        COMPLAINT = "complaint", _("Complaint")

    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    # For follow-up scripts: the follow-up kind it is for (blank: any).
    kind = models.CharField(_("follow-up kind"), max_length=24, blank=True)
    title_zh = models.CharField(_("Chinese title"), max_length=100)
    title_en = models.CharField(_("English title"), max_length=100)
    body_zh = models.TextField(_("Chinese text"))
    body_en = models.TextField(_("English text"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("script template")
        verbose_name_plural = _("script templates")
        ordering = ["category", "kind", "pk"]
        indexes = [
            # the script beside a follow-up: WHERE category = 'followup' AND kind = ? AND is_active
            models.Index(fields=["category", "kind"], name="script_template_lookup_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return bilingual(self.title_zh, self.title_en)

    @property
    def body(self) -> str:
        return bilingual(self.body_zh, self.body_en)
