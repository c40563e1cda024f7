"""Housekeeping of core's shared tables."""

from celery import shared_task
from django.apps import apps
from django.db import InterfaceError, OperationalError

from .models import StatusCount
from .status_counts import are_kept, compact


@shared_task(name="core.tasks.compact_status_counts", autoretry_for=(OperationalError, InterfaceError), max_retries=3)
def compact_status_counts() -> dict:
    """Fold the rows the triggers appended to every counts table (core.status_counts); every 10 minutes from beat."""
    if not are_kept():
        return {}
    tables = [model._meta.db_table for model in apps.get_models() if issubclass(model, StatusCount)]
    return {table: compact(table) for table in tables}
