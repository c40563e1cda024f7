"""Abstract base models shared by every LoanTrack app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    """Adds creation and last-modification timestamps."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True
