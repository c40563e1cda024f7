from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.bilingual import bilingual
from core.identity import validate_mobile
from core.models import TimeStampedModel


class Branch(TimeStampedModel):
    """A branch (网点). Staff see their own branch; head-office staff see every branch."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    is_head_office = models.BooleanField(_("head office"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    # The columns str(branch) reads: `.only()` them where a list or a filter shows branches by name.
    label_fields = ("name", "name_en")

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["-is_head_office", "code"]

    def __str__(self) -> str:
        return bilingual(self.name, self.name_en)


class User(AbstractUser):
    """A person who signs in: staff (by role group) or a borrower (the `borrower` group)."""

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    display_name = models.CharField(_("display name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile number"), max_length=20, blank=True, validators=[validate_mobile])
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    approval_limit = models.DecimalField(
        _("approval limit (yuan)"),
        max_digits=18,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("The largest amount this approver may approve alone."),
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    # The columns str(user) reads: `.only()` them where a list or a filter shows people by name.
    label_fields = ("display_name", "first_name", "last_name", "username")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(condition=models.Q(approval_limit__gte=0), name="user_approval_limit_not_negative"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def name(self) -> str:
        return str(self)


def name_fields(relation: str) -> tuple[str, ...]:
    """The columns str(user) reads, through `relation`: for `.only()` on a list that shows people by name."""
    return tuple(f"{relation}__{field}" for field in User.label_fields)


def attach_people(instance: models.Model, *fields: str) -> None:
    """Read the users `instance` points to through `fields` in one query and cache them on it, so that
    `instance.officer` and the others read nothing more. A prefetch per field is a query each, and joining them all
    makes a join PostgreSQL takes longer to plan than to run."""
    relations = [type(instance)._meta.get_field(name) for name in fields]
    ids = {getattr(instance, relation.attname) for relation in relations} - {None}
    people = User.objects.in_bulk(ids) if ids else {}
    for relation in relations:
        relation.set_cached_value(instance, people.get(getattr(instance, relation.attname)))


class AuditAction(models.TextChoices):
    REVEAL_IDENTITY = "reveal_identity", _("revealed an identity number")
    EXPORT = "export", _("exported data")


class AuditEvent(models.Model):
    """A sensitive read or action that leaves no other trace, e.g. revealing a full identity number."""

    Action = AuditAction

    actor = models.ForeignKey(User, verbose_name=_("who"), null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(_("action"), max_length=32, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100)
    object_id = models.CharField(_("object id"), max_length=64)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-created_at"]
        indexes = [
            # "who looked at this borrower": the audit list filtered by object
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(action__in=AuditAction.values), name="audit_action_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display()} {self.object_type}#{self.object_id}"
