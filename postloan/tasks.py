"""Celery tasks of the post-loan app: thin wrappers around one service each."""

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .reminders import reminders_sweep
from .services.sweep import sweep_daily as daily_sweep


@shared_task(
    name="postloan.tasks.sweep_reminders",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_reminders() -> int:
    """Queue the repayment reminders due today; hourly from beat, safe to run twice or to miss a run."""
    return reminders_sweep()


@shared_task(
    name="postloan.tasks.sweep_daily",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    max_retries=3,
    # The whole book in one run: more than the default 240 s is allowed; a run cut short keeps its committed chunks.
    soft_time_limit=1800,
    time_limit=1900,
)
def sweep_daily(business_date: str | None = None) -> dict:
    """Penalty, days past due, status and classification of every open loan (default: today in Shanghai), then the
    approvals' expiry; daily from beat at 00:30. Idempotent, so a retry after a lost connection finishes the rest."""
    day = date.fromisoformat(business_date) if business_date else None
    return daily_sweep(business_date=day).as_dict()
