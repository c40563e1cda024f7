"""Celery tasks of the dashboard app: thin wrappers around one service each."""

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .reports import weekly_summary_sweep


@shared_task(
    name="dashboard.tasks.sweep_weekly_summary",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_weekly_summary(today: str | None = None) -> int:
    """Queue the managers' weekly portfolio summary; Mondays 08:00 from beat, once per manager and week."""
    return weekly_summary_sweep(today=date.fromisoformat(today) if today else None)
