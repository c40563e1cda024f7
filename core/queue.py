"""Enqueueing Celery tasks from a request or service without ever failing it on a broker outage."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send `task` after the current transaction commits (nothing is sent if it rolls back).

    A broker that is down must not fail the user's request: the work is already a row in the database and a
    periodic sweep picks it up, so a failed publish is logged and dropped.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, kwargs=kwargs)
        except Exception as exc:  # kombu raises many kinds of connection errors
            logger.warning("Could not enqueue %s (the sweep will catch up): %s", task.name, exc)

    transaction.on_commit(send)
