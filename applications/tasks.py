"""Celery tasks of the applications app: thin wrappers around one service each."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="applications.tasks.sweep_expired_approvals",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_expired_approvals() -> int:
    """Expire approvals not contracted within 30 days; safe to run twice or to miss a day."""
    return services.applications_expire()
