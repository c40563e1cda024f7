"""Receivers of postloan's signals (DESIGN.md §8): each enqueues one task, so the work runs in a worker and retries
there. The signals are sent after postloan's commit, so the task is published at once (no second on_commit). A lost
planning or overdue-call task (a broker outage, a worker killed) is caught up by the 01:00 safety net; a lost
re-dating is not (nothing in the rows shows it is due), so its task retries on database errors."""

import logging
from datetime import date

from postloan.signals import loan_became_overdue, loan_disbursed, loan_rescheduled

from .tasks import overdue_call, plan_for_loan, redate_for_loan

logger = logging.getLogger(__name__)


def _enqueue(task, *args) -> None:
    # A broker that is down must not fail the disbursement or the sweep that sent the signal.
    try:
        task.apply_async(args=args)
    except Exception as exc:  # kombu raises many kinds of connection errors
        logger.warning("Could not enqueue %s%r (the 01:00 sweep will catch up): %s", task.name, args, exc)


def on_loan_disbursed(sender, loan_id: int, **kwargs) -> None:
    _enqueue(plan_for_loan, loan_id)


def on_loan_rescheduled(sender, loan_id: int, **kwargs) -> None:
    _enqueue(redate_for_loan, loan_id)


def on_loan_became_overdue(sender, loan_id: int, overdue_since: date, **kwargs) -> None:
    _enqueue(overdue_call, loan_id, overdue_since.isoformat())


def connect() -> None:
    """Called once from FollowupsConfig.ready; the dispatch uids keep a second call from connecting twice."""
    loan_disbursed.connect(on_loan_disbursed, dispatch_uid="followups.plan_for_loan")
    loan_rescheduled.connect(on_loan_rescheduled, dispatch_uid="followups.redate_for_loan")
    loan_became_overdue.connect(on_loan_became_overdue, dispatch_uid="followups.overdue_call")
