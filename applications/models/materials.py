"""Materials of an application: the product's checklist items and what was uploaded for each."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .applications import Application
from .products import MaterialRequirement

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def material_upload_path(instance: "Material", filename: str) -> str:
    """A random name under the application's folder: the original name is kept only in the database."""
    extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(instance.content_type, "")
    return f"materials/{instance.application_id}/{secrets.token_hex(16)}{extension}"


class Material(models.Model):
    class Status(models.TextChoices):
        MISSING = "missing", _("Missing")
        UPLOADED = "uploaded", _("Uploaded, to be checked")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="materials")
    requirement = models.ForeignKey(
        MaterialRequirement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Copied from the requirement when the checklist is made (the checklist may change later; this file is what was
    # asked for). An extra item the officer types has only `name`, in the officer's words.
    name = models.CharField(_("material"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    is_required = models.BooleanField(_("required"), default=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.MISSING)
    file = models.FileField(_("file"), upload_to=material_upload_path, blank=True, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("file type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("checked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    rejection_reason = models.CharField(_("why it was rejected"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["application", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["missing", "uploaded", "accepted", "rejected"]),
                name="material_status_valid",
            ),
            models.UniqueConstraint(
                fields=["application", "requirement"],
                condition=models.Q(requirement__isnull=False),
                name="material_once_per_requirement",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_in(translation.get_language())

    def name_in(self, language: str | None) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    @property
    def is_outstanding(self) -> bool:
        """Still needed from the borrower: required and not (yet) acceptable."""
        return self.is_required and self.status in (self.Status.MISSING, self.Status.REJECTED)
