"""Abstract base models shared by every LoanTrack app."""

from django.db import models, transaction
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds creation and last-modification timestamps."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class StatusCount(models.Model):
    """How many rows of a table are in each status, per branch and officer, kept by database triggers
    (core.status_counts); the lists' counts per status read these rows instead of counting the table. A count is
    the sum of n over its rows: changes are appended, and folded together every 10 minutes."""

    # No foreign-key constraints: the rows are derived from the counted table, whose own keys guard them, and a
    # constraint would cost a lookup per count row the triggers write. No index of their own: the one below serves.
    branch = models.ForeignKey(
        "accounts.Branch", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    officer = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    status = models.CharField(max_length=20)
    n = models.BigIntegerField(default=0)

    # The lists' reads: WHERE branch = ? [AND officer = ?] GROUP BY status (each subclass names its index).
    INDEXED = ["branch", "officer", "status"]

    class Meta:
        abstract = True


class DocumentSequence(models.Model):
    """Gap-free counters for readable document numbers (LA2026000001), one row per prefix and year."""

    prefix = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "year"], name="document_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}{self.year}:{self.last_value}"


def next_document_number(prefix: str, year: int, *, width: int = 6) -> str:
    """The next number for a prefix and year, e.g. LA2026000042. Call inside the transaction that uses it: the row
    lock serialises concurrent callers, and a rollback gives the number back."""
    with transaction.atomic():
        DocumentSequence.objects.get_or_create(prefix=prefix, year=year)
        sequence = DocumentSequence.objects.select_for_update().get(prefix=prefix, year=year)
        sequence.last_value += 1
        sequence.save(update_fields=["last_value"])
    return f"{prefix}{year}{sequence.last_value:0{width}d}"
