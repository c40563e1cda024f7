"""Outbox behaviour an operator would notice: once per key, quiet hours, retries, giving up, lost claims."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail

from core.dates import SHANGHAI
from notifications.models import OutboxMessage
from notifications.services import message_queue, message_retry, message_send, message_send_test, outbox_sweep

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def queue_sms(key: str = "reminder:1:-3", **overrides) -> OutboxMessage:
    fields = {
        "key": key,
        "channel": OutboxMessage.Channel.SMS,
        "template": "test_message",
        "to_address": "13812345678",
        "context": {"name": "Li Lei"},
        "language": "en",
        "audience": OutboxMessage.Audience.BORROWER,
    }
    return message_queue(**(fields | overrides))


def test_it_queues_and_sends_one_message_per_idempotency_key(sms_outbox, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(at(2026, 3, 10, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        first = queue_sms()
        second = queue_sms()

    assert second.pk == first.pk
    assert OutboxMessage.objects.count() == 1
    assert len(callbacks) == 1
    assert len(sms_outbox) == 1
    message = OutboxMessage.objects.get()
    assert message.status == Status.SENT
    assert message.attempts == 1


def test_it_does_not_send_again_when_a_sent_key_is_queued_later(sms_outbox, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        queue_sms()
    with time_machine.travel(at(2026, 3, 11, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            queue_sms()
        assert outbox_sweep() == 0

    assert callbacks == []
    assert len(sms_outbox) == 1


def test_it_sends_nothing_when_the_transaction_rolls_back(sms_outbox, django_capture_on_commit_callbacks):
    from django.db import transaction

    class Abort(Exception):
        pass

    with (
        time_machine.travel(at(2026, 3, 10, 10, 0), tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        queue_sms()
        raise Abort

    assert callbacks == []
    assert OutboxMessage.objects.count() == 0
    assert sms_outbox == []


def test_it_holds_a_borrower_sms_queued_at_night_until_eight(sms_outbox, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 3, 10, 22, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        message = queue_sms()
    assert message.next_attempt_at == at(2026, 3, 11, 8, 0)
    assert sms_outbox == []

    with time_machine.travel(at(2026, 3, 10, 23, 0), tick=False):
        assert outbox_sweep() == 0
    assert sms_outbox == []
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.attempts == 0

    with time_machine.travel(at(2026, 3, 11, 8, 1), tick=False):
        assert outbox_sweep() == 1
    assert [sms["to"] for sms in sms_outbox] == ["13812345678"]
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.sent_at == at(2026, 3, 11, 8, 1)


def test_it_holds_a_borrower_sms_queued_just_after_midnight_until_eight_that_morning(sms_outbox):
    with time_machine.travel(at(2026, 3, 11, 0, 30), tick=False):
        message = queue_sms()
    assert message.next_attempt_at == at(2026, 3, 11, 8, 0)


def test_it_sends_a_borrower_sms_at_twenty_to_nine_in_the_evening(sms_outbox, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 3, 10, 20, 59), tick=False), django_capture_on_commit_callbacks(execute=True):
        queue_sms()
    assert len(sms_outbox) == 1


def test_it_sends_a_staff_email_at_night_at_once(administrator, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 3, 10, 22, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        message = message_queue(
            key="staff:warning:7",
            channel=OutboxMessage.Channel.EMAIL,
            template="test_message",
            to_address="admin@example.com",
            context={"name": "Admin Wang"},
            language="en",
            audience=OutboxMessage.Audience.STAFF,
            recipient=administrator,
        )

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["admin@example.com"]
    assert email.subject == "LoanTrack test message for Admin Wang"
    assert "This is a test message from LoanTrack" in email.body
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.subject == email.subject
    assert message.body == email.body
    assert message.sent_at == at(2026, 3, 10, 22, 0)


def test_it_prefixes_sms_text_with_the_signature_and_stores_it(
    settings, sms_outbox, django_capture_on_commit_callbacks
):
    settings.SMS_SIGNATURE = "【某某小贷】"
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        message = queue_sms(context={"name": "Li Lei & Han Meimei"})

    text = sms_outbox[0]["text"]
    assert text.startswith("【某某小贷】This is a test message from LoanTrack for Li Lei & Han Meimei.")
    message.refresh_from_db()
    assert message.body == text
    assert message.subject == ""


def test_it_records_a_failed_sms_and_tries_again_a_minute_later(settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = "tests.notifications.backends.FailingSmsBackend"
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        message = queue_sms()

    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.attempts == 1
    assert "gateway said no" in message.last_error
    assert "SmsError" in message.last_error
    assert message.next_attempt_at == at(2026, 3, 10, 10, 1)
    assert message.claimed_at is None
    assert message.sent_at is None

    with time_machine.travel(at(2026, 3, 10, 10, 0, 30), tick=False):
        assert outbox_sweep() == 0
    message.refresh_from_db()
    assert message.attempts == 1  # not due yet: no attempt made


def test_it_backs_off_longer_after_each_failure(settings):
    settings.SMS_BACKEND = "tests.notifications.backends.FailingSmsBackend"
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        message = queue_sms()
    waits = []
    for _ in range(3):
        with time_machine.travel(message.next_attempt_at, tick=False):
            outbox_sweep()
            started = message.next_attempt_at
            message.refresh_from_db()
            waits.append(message.next_attempt_at - started)

    assert waits == [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)]


def test_it_gives_up_after_the_maximum_number_of_attempts(settings, sms_outbox):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.SMS_BACKEND = "tests.notifications.backends.FailingSmsBackend"
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        message = queue_sms()

    statuses = []
    for _ in range(4):
        with time_machine.travel(message.next_attempt_at + timedelta(seconds=1), tick=False):
            outbox_sweep()
        message.refresh_from_db()
        statuses.append((message.status, message.attempts))

    assert statuses == [
        (Status.PENDING, 1),
        (Status.PENDING, 2),
        (Status.FAILED, 3),
        (Status.FAILED, 3),  # a failed message is not swept again
    ]
    assert "gateway said no" in message.last_error


def test_it_puts_a_due_borrower_message_reached_at_night_back_until_morning(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 20, 0), tick=False):
        message = queue_sms()  # no on-commit run: the broker was down
    with time_machine.travel(at(2026, 3, 10, 21, 30), tick=False):
        assert outbox_sweep() == 0

    assert sms_outbox == []
    message.refresh_from_db()
    assert message.status == Status.PENDING
    assert message.attempts == 0
    assert message.next_attempt_at == at(2026, 3, 11, 8, 0)


def test_the_sweep_sends_what_the_broker_never_delivered(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        queue_sms(key="a")
        queue_sms(key="b")
    with time_machine.travel(at(2026, 3, 10, 10, 1), tick=False):
        assert outbox_sweep() == 2
    assert len(sms_outbox) == 2


def test_running_the_sweep_twice_sends_once(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        queue_sms()
        assert outbox_sweep() == 1
        assert outbox_sweep() == 0
    assert len(sms_outbox) == 1
    assert OutboxMessage.objects.get().attempts == 1


def test_the_sweep_respects_its_limit_oldest_first(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        queue_sms(key="older", to_address="13800000001")
    with time_machine.travel(at(2026, 3, 10, 10, 5), tick=False):
        queue_sms(key="newer", to_address="13800000002")
        assert outbox_sweep(limit=1) == 1
    assert [sms["to"] for sms in sms_outbox] == ["13800000001"]


def test_the_sweep_takes_back_a_claim_lost_by_a_crashed_worker(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        lost = queue_sms(key="lost")
        busy = queue_sms(key="busy", to_address="13800000009")
    OutboxMessage.objects.filter(pk=lost.pk).update(
        status=Status.SENDING, attempts=1, claimed_at=at(2026, 3, 10, 10, 0)
    )
    OutboxMessage.objects.filter(pk=busy.pk).update(
        status=Status.SENDING, attempts=1, claimed_at=at(2026, 3, 10, 10, 5)
    )

    with time_machine.travel(at(2026, 3, 10, 10, 11), tick=False):
        assert outbox_sweep() == 1

    lost.refresh_from_db()
    busy.refresh_from_db()
    assert lost.status == Status.SENT
    assert lost.attempts == 2
    assert busy.status == Status.SENDING  # claimed six minutes ago: its worker may still be sending it
    assert [sms["to"] for sms in sms_outbox] == ["13812345678"]


def test_a_message_claimed_by_another_worker_is_not_sent_again(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        message = queue_sms()
        OutboxMessage.objects.filter(pk=message.pk).update(status=Status.SENDING, claimed_at=at(2026, 3, 10, 10, 0))
        result = message_send(message_id=message.pk)
    assert result.status == Status.SENDING
    assert sms_outbox == []


def test_a_failed_message_retried_by_an_administrator_is_sent(settings, sms_outbox, django_capture_on_commit_callbacks):
    settings.NOTIFY_MAX_ATTEMPTS = 1
    settings.SMS_BACKEND = "tests.notifications.backends.FailingSmsBackend"
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            message = queue_sms()
        message.refresh_from_db()
        assert message.status == Status.FAILED

        settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
        with django_capture_on_commit_callbacks(execute=True):
            assert message_retry(message_id=message.pk) is True

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert len(sms_outbox) == 1


def test_only_a_failed_message_can_be_retried(sms_outbox):
    with time_machine.travel(at(2026, 3, 10, 10, 0), tick=False):
        message = queue_sms()
        assert message_retry(message_id=message.pk) is False


def test_a_test_message_goes_to_the_administrator_as_staff(administrator, django_capture_on_commit_callbacks):
    with time_machine.travel(at(2026, 3, 10, 23, 0), tick=False), django_capture_on_commit_callbacks(execute=True):
        message = message_send_test(by=administrator, channel="email", to_address="ops@example.com")

    message.refresh_from_db()
    assert message.audience == OutboxMessage.Audience.STAFF
    assert message.recipient == administrator
    assert message.idempotency_key.startswith("test:")
    assert message.status == Status.SENT
    assert mail.outbox[0].to == ["ops@example.com"]
    assert "Admin Wang" in mail.outbox[0].subject


def test_it_refuses_an_unknown_channel():
    with pytest.raises(ValueError, match="channel"):
        queue_sms(channel="fax")
