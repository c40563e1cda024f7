"""The Celery tasks are thin: they call the services and retry only on a database hiccup."""

from datetime import datetime
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.db import OperationalError

from core.dates import SHANGHAI
from notifications import tasks
from notifications.models import OutboxMessage
from notifications.services import message_queue

pytestmark = pytest.mark.django_db

DAYTIME = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


def queue_sms(key: str = "reminder:1:0") -> OutboxMessage:
    return message_queue(
        key=key, channel="sms", template="test_message", to_address="13812345678", context={"name": "Li"}, language="en"
    )


def test_the_send_task_sends_the_message(sms_outbox):
    with time_machine.travel(DAYTIME, tick=False):
        message = queue_sms()
        tasks.send_message_task.delay(message.pk)
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert len(sms_outbox) == 1


def test_the_send_task_ignores_a_message_that_no_longer_exists(sms_outbox):
    result = tasks.send_message_task.apply(args=[987654])
    assert result.successful()
    assert sms_outbox == []


def test_the_send_task_retries_when_the_database_is_unavailable():
    with mock.patch.object(tasks.services, "message_send", side_effect=OperationalError("database is locked")) as send:
        result = tasks.send_message_task.apply(args=[1])
    assert result.failed()
    assert send.call_count == 1 + tasks.send_message_task.max_retries


def test_the_sweep_task_sends_due_messages(sms_outbox):
    with time_machine.travel(DAYTIME, tick=False):
        queue_sms("a")
        queue_sms("b")
        result = tasks.sweep_outbox.apply()
    assert result.get() == 2
    assert len(sms_outbox) == 2


def test_the_sweep_task_is_the_one_beat_runs():
    scheduled = {entry["task"] for entry in settings.PERIODIC_TASKS.values()}
    assert tasks.sweep_outbox.name in scheduled
    assert tasks.send_message_task.name == "notifications.tasks.send_message"
