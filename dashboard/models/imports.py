"""An import: a spreadsheet of existing borrowers or loans, checked row by row (dry run), then imported by a task."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def import_upload_path(instance: "ImportJob", filename: str) -> str:
    return f"imports/{timezone.now():%Y/%m}/{filename}"


class ImportKind(models.TextChoices):
    BORROWERS = "borrowers", _("Borrowers")
    LOANS = "loans", _("Loans")


class ImportStatus(models.TextChoices):
    CHECKING = "checking", _("Checking")
    CHECKED = "checked", _("Checked")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One uploaded file: the dry run's findings, then the import's progress and counts."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("what"), max_length=16, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    # Row errors are written in the language of the person who uploaded.
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(_("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.CHECKING)
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_valid = models.PositiveIntegerField(_("valid rows"), default=0)
    rows_invalid = models.PositiveIntegerField(_("rows with errors"), default=0)
    rows_done = models.PositiveIntegerField(_("rows processed"), default=0)
    rows_created = models.PositiveIntegerField(_("rows imported"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows already present"), default=0)
    # [{"row": 7, "column": "identity_number", "message": "…"}], in file order.
    errors = models.JSONField(_("row errors"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The import page's list of recent uploads, newest first.
            models.Index(fields=["uploaded_by", "-created_at"], name="import_by_uploader"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
