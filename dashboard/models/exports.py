"""An export: one list (the loan book, the overdue list, …) written to Excel or CSV by a Celery task."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def export_upload_path(instance: "ExportJob", filename: str) -> str:
    return f"exports/{timezone.now():%Y/%m}/{instance.pk or 'new'}-{filename}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class ExportKind(models.TextChoices):
    LOANS = "loans", _("Loan book")
    OVERDUE = "overdue", _("Overdue loans")
    APPLICATIONS = "applications", _("Applications")
    FOLLOWUPS = "followups", _("Follow-ups")
    WARNINGS = "warnings", _("Risk warnings")
    INQUIRIES = "inquiries", _("Inquiries")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (.xlsx)")
    CSV = "csv", _("CSV (.csv)")


class ExportJob(models.Model):
    """Who asked for which list with which filters; the worker fills in progress and the file."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("list"), max_length=16, choices=ExportKind.choices)
    file_format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    # The list page's filters as they were when the export was asked for (query-string keys and values).
    params = models.JSONField(_("filters"), default=dict, blank=True)
    # Column headers and status labels are written in the language of the person who asked.
    language = models.CharField(_("language"), max_length=10)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    rows_total = models.PositiveIntegerField(_("rows to write"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to=export_upload_path, blank=True, max_length=200)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("asked for at"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # "My exports", newest first.
            models.Index(fields=["requested_by", "-created_at"], name="export_by_requester"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"
