"""Celery for real: a worker thread consuming from the Redis broker, and a request that survives a broker outage."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse

from accounts.roles import Role
from loantrack.celery import app as celery_app
from notifications.models import OutboxMessage
from notifications.services import message_queue
from tests.conftest import require_service

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_broker():
    require_service(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set: these tests need a real Redis broker")
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    yield celery_app


def reset_broker_connections() -> None:
    """Drop pooled connections so the next publish connects to the broker URL configured now."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def running_worker(redis_broker):
    with start_worker(
        celery_app,
        pool="solo",
        perform_ping_check=False,
        queues=["default", "notifications", "sweeps"],
        shutdown_timeout=20,
    ) as worker:
        yield worker


def wait_for_status(message: OutboxMessage, status: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        message.refresh_from_db()
        if message.status == status:
            return
        time.sleep(0.2)
    pytest.fail(f"message stayed {message.status!r} (attempts {message.attempts}, error {message.last_error!r})")


def test_it_runs_a_task_enqueued_after_commit_on_a_real_worker(running_worker, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    message = message_queue(
        key="test:worker-roundtrip",
        channel=OutboxMessage.Channel.EMAIL,
        template="test_message",
        to_address="ops@example.com",
        context={"name": "Ops"},
        audience=OutboxMessage.Audience.STAFF,
    )

    wait_for_status(message, OutboxMessage.Status.SENT)
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.subject


def test_it_keeps_a_request_working_while_the_broker_is_down_and_the_sweep_sends_later(
    redis_broker, client, role_users, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    working_broker = celery_app.conf.broker_url
    client.force_login(role_users[Role.ADMIN])

    celery_app.conf.broker_url = UNREACHABLE_BROKER
    reset_broker_connections()
    try:
        response = client.post(
            reverse("notifications:outbox_test"), {"channel": "email", "to_address": "ops@example.com"}
        )
    finally:
        celery_app.conf.broker_url = working_broker
        reset_broker_connections()

    assert response.status_code == 302
    message = OutboxMessage.objects.get(to_address="ops@example.com")
    assert message.status == OutboxMessage.Status.PENDING
    assert message.attempts == 0

    # The broker is back: beat's every-minute sweep (sent here by hand) runs on a real worker and sends it.
    with start_worker(celery_app, pool="solo", perform_ping_check=False, queues=["default", "notifications", "sweeps"]):
        celery_app.send_task("notifications.tasks.sweep_outbox")
        wait_for_status(message, OutboxMessage.Status.SENT)
