"""Celery tasks: thin wrappers that take ids and call one service."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services

# A database that is briefly unreachable or locked. Failures to render or deliver are not raised: the service records
# them on the outbox row and schedules its own retry.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="notifications.tasks.send_message",
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=3,
)
def send_message_task(self, message_id: int) -> None:
    """Send one outbox message now if it is due and no one else holds it."""
    services.message_send(message_id=message_id)


@shared_task(name="notifications.tasks.sweep_outbox")
def sweep_outbox() -> int:
    """Send every outbox message that is due (the safety net for lost tasks); runs every minute from beat."""
    return services.outbox_sweep()
