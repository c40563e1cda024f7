"""Celery tasks of the follow-ups app: thin wrappers around one service each."""

from datetime import date

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .planning import (
    followups_plan_for_loan,
    followups_redate_for_loan,
    followups_sweep_missing,
    overdue_call_for_episode,
)
from .services.nudges import late_escalation_sweep, officer_digest_sweep


@shared_task(
    name="followups.tasks.sweep_digest",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_digest(today: str | None = None) -> int:
    """Queue each officer's morning digest of follow-ups due today or overdue; daily from beat at 08:30, once per
    officer and day however often it runs."""
    return officer_digest_sweep(today=date.fromisoformat(today) if today else None)


@shared_task(
    name="followups.tasks.sweep_late_followups",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=3,
)
def sweep_late_followups(today: str | None = None) -> int:
    """Escalate follow-ups more than three days late to the branch managers, once each; daily from beat at 08:35."""
    return late_escalation_sweep(today=date.fromisoformat(today) if today else None)


# --- planning (DESIGN.md §5): enqueued by followups.receivers on postloan's signals, and the daily safety net ----
@shared_task(
    name="followups.tasks.plan_for_loan",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=5,
)
def plan_for_loan(loan_id: int) -> int:
    """Create a newly disbursed loan's planned follow-ups; safe to retry (the sweep at 01:00 is the safety net)."""
    return followups_plan_for_loan(loan_id=loan_id)


@shared_task(
    name="followups.tasks.redate_for_loan",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=5,
)
def redate_for_loan(loan_id: int) -> dict:
    """Re-date a rescheduled loan's open planned follow-ups to its new maturity."""
    return followups_redate_for_loan(loan_id=loan_id).as_dict()


@shared_task(
    name="followups.tasks.overdue_call",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=10,
    max_retries=5,
)
def overdue_call(loan_id: int, overdue_since: str) -> int | None:
    """Create the overdue call of a new overdue episode (`overdue_since` an ISO date); returns its id."""
    call = overdue_call_for_episode(loan_id=loan_id, overdue_since=date.fromisoformat(overdue_since))
    return call.pk if call else None


@shared_task(
    name="followups.tasks.sweep_missing_followups",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=60,
    max_retries=3,
)
def sweep_missing_followups(today: str | None = None) -> int:
    """Create the planned follow-ups and overdue calls a lost task did not; daily from beat at 01:00, idempotent."""
    return followups_sweep_missing(today=date.fromisoformat(today) if today else None)
