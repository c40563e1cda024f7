"""Repayment reminders: which are written when, that each goes out once, in the borrower's language and waking hours,
and never for an installment already paid."""

from datetime import date, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from core.dates import SHANGHAI
from core.identity import resident_id_check_char
from core.money import format_yuan
from loantrack.celery import app as celery_app
from notifications import sms
from notifications.models import OutboxMessage
from notifications.services import outbox_sweep
from postloan.models import Installment, Loan
from postloan.reminders import TEMPLATE, reminder_key, reminder_windows, reminders_sweep
from tests.postloan.factories import FIRST_DUE, disbursed_loan, installments, on, post

D = FIRST_DUE  # installment 1 of the factory loan falls due on 10 February 2026
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def quiet_nights(settings):
    settings.NOTIFY_QUIET_START_HOUR, settings.NOTIFY_QUIET_END_HOUR = 21, 8


def resident_id(serial: int) -> str:
    first17 = f"11010119850307{serial:03d}"
    return first17 + resident_id_check_char(first17)


def reminders() -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=TEMPLATE).order_by("pk"))


def keys() -> list[str]:
    return [message.idempotency_key for message in reminders()]


def sweep(day: date, hour: int = 10, *, callbacks) -> int:
    """One sweep run on `day` at `hour`, with the sends it enqueues run after commit, as a worker would."""
    with on(day, hour), callbacks(execute=True):
        return reminders_sweep()


def loan_without_other_messages(staff, **terms) -> Loan:
    """A disbursed loan, with the application journey's own messages taken out of the outbox."""
    loan = disbursed_loan(staff, **terms)
    OutboxMessage.objects.exclude(template=TEMPLATE).delete()
    return loan


def first_installment(loan: Loan) -> Installment:
    return installments(loan)[0]


def test_it_writes_one_reminder_per_installment_and_offset_however_often_it_runs(
    staff, product, django_capture_on_commit_callbacks
):
    loan = loan_without_other_messages(staff)
    first, second = installments(loan)[:2]

    assert sweep(D - timedelta(days=7), callbacks=django_capture_on_commit_callbacks) == 1
    assert sweep(D - timedelta(days=7), hour=11, callbacks=django_capture_on_commit_callbacks) == 0
    assert sweep(D - timedelta(days=5), callbacks=django_capture_on_commit_callbacks) == 0  # −7 is still current
    assert sweep(D - timedelta(days=3), callbacks=django_capture_on_commit_callbacks) == 1

    assert keys() == [f"reminder:{first.pk}:-7", f"reminder:{first.pk}:-3"]
    assert not any(str(second.pk) == key.split(":")[1] for key in keys())  # due a month later
    assert [message.status for message in reminders()] == [Status.SENT, Status.SENT]
    assert [entry["to"] for entry in sms.outbox] == [loan.borrower.mobile, loan.borrower.mobile]


def test_it_writes_every_offset_once_over_the_life_of_an_unpaid_installment(
    staff, product, django_capture_on_commit_callbacks
):
    loan = loan_without_other_messages(staff)
    first = first_installment(loan)

    for day in range(-10, 12):
        for hour in (0, 12):
            sweep(D + timedelta(days=day), hour=hour, callbacks=django_capture_on_commit_callbacks)

    first_keys = sorted(key for key in keys() if key.split(":")[1] == str(first.pk))
    assert first_keys == sorted(reminder_key(first.pk, offset) for offset in (-7, -3, -1, 0, 1, 3, 7))
    assert len(sms.outbox) == len(keys())


def test_it_writes_nothing_for_a_paid_installment_and_cancels_a_queued_one(
    staff, product, quiet_nights, django_capture_on_commit_callbacks
):
    loan = loan_without_other_messages(staff)
    first = first_installment(loan)
    # Queued at 22:00, three days before the due date: it waits for the morning.
    sweep(D - timedelta(days=3), hour=22, callbacks=django_capture_on_commit_callbacks)
    assert keys() == [reminder_key(first.pk, -3)] and sms.outbox == []

    with on(D - timedelta(days=3), 23):
        post(loan, str(first.total_due), paid_on=D - timedelta(days=3), reference="PAY-1", by=staff["officer"])
    with on(D - timedelta(days=2), 8):
        assert outbox_sweep() == 0

    message = reminders()[0]
    assert sms.outbox == []
    assert message.status == Status.CANCELLED
    assert message.attempts == 0
    assert message.sent_at is None
    assert message.last_error == f"Installment 1 of loan {loan.number} has been paid."
    for day in (-1, 0, 1, 3):
        sweep(D + timedelta(days=day), callbacks=django_capture_on_commit_callbacks)
    assert keys() == [reminder_key(first.pk, -3)]


def test_it_holds_a_reminder_written_at_ten_at_night_until_eight_in_the_morning(
    staff, product, quiet_nights, django_capture_on_commit_callbacks
):
    loan_without_other_messages(staff)

    sweep(D - timedelta(days=7), hour=22, callbacks=django_capture_on_commit_callbacks)
    message = reminders()[0]
    assert message.status == Status.PENDING
    assert message.next_attempt_at == datetime(2026, 2, 4, 8, 0, tzinfo=SHANGHAI)
    assert sms.outbox == []

    with on(date(2026, 2, 4), 7):
        assert outbox_sweep() == 0
    with on(date(2026, 2, 4), 8):
        assert outbox_sweep() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert message.sent_at == datetime(2026, 2, 4, 8, 0, tzinfo=SHANGHAI)
    assert len(sms.outbox) == 1


def test_it_cancels_a_pre_due_reminder_that_reaches_the_due_date_unsent(
    staff, product, quiet_nights, django_capture_on_commit_callbacks
):
    loan = loan_without_other_messages(staff)
    first = first_installment(loan)
    sweep(D - timedelta(days=1), hour=22, callbacks=django_capture_on_commit_callbacks)  # the day's earlier runs failed
    sweep(D, hour=0, callbacks=django_capture_on_commit_callbacks)

    with on(D, 8):
        assert outbox_sweep() == 1

    stale, today = reminders()
    assert (stale.idempotency_key, stale.status) == (reminder_key(first.pk, -1), Status.CANCELLED)
    assert "out of date" in stale.last_error
    assert (today.idempotency_key, today.status) == (reminder_key(first.pk, 0), Status.SENT)
    # The borrower has no portal account, so the SMS is in Chinese: "…今天（2026年2月10日）为还款日。"
    assert len(sms.outbox) == 1 and "今天（" in sms.outbox[0]["text"]


def test_it_catches_up_after_missed_days_with_the_latest_reminder_only(
    staff, product, django_capture_on_commit_callbacks
):
    loan = loan_without_other_messages(staff)
    first = first_installment(loan)

    # No run from D−10 to D+2; then one.
    assert sweep(D + timedelta(days=2), callbacks=django_capture_on_commit_callbacks) == 1

    assert keys() == [reminder_key(first.pk, 1)]
    assert reminders()[0].context["phase"] == "overdue"
    text = sms.outbox[0]["text"]
    assert "2026年2月10日" in text and format_yuan(first.total_due) in text


def test_it_sends_no_backlog_after_weeks_without_a_run(staff, product, django_capture_on_commit_callbacks):
    loan_without_other_messages(staff)

    # Installment 1 is 35 days past due, installment 2 seven days: only installment 2's +7 reminder is current.
    assert sweep(D + timedelta(days=35), callbacks=django_capture_on_commit_callbacks) == 1
    assert [key.split(":")[2] for key in keys()] == ["7"]
    # The last reminder stays current for one extra day, then nothing.
    assert sweep(date(2026, 3, 19), callbacks=django_capture_on_commit_callbacks) == 0
    OutboxMessage.objects.filter(template=TEMPLATE).delete()
    assert sweep(date(2026, 3, 18), callbacks=django_capture_on_commit_callbacks) == 1
    assert sweep(date(2026, 3, 19), callbacks=django_capture_on_commit_callbacks) == 0


def test_the_reminder_windows_never_overlap_and_end_a_day_after_the_last_offset():
    assert reminder_windows((-7, -3, -1, 0, 1, 3, 7)) == [
        (-7, -7, -4),
        (-3, -3, -2),
        (-1, -1, -1),
        (0, 0, 0),
        (1, 1, 2),
        (3, 3, 6),
        (7, 7, 8),
    ]
    # Without an on-due offset a pre-due reminder still stops the day before the due date.
    assert reminder_windows((-3, 2)) == [(-3, -3, -1), (2, 2, 3)]


def test_it_follows_the_configured_offsets(staff, product, settings, django_capture_on_commit_callbacks):
    settings.REPAYMENT_REMINDER_OFFSETS = (-2, 5)
    loan = loan_without_other_messages(staff)
    first = first_installment(loan)

    for day in range(-8, 9):
        sweep(D + timedelta(days=day), callbacks=django_capture_on_commit_callbacks)

    assert keys() == [reminder_key(first.pk, -2), reminder_key(first.pk, 5)]


def test_a_sweep_costs_the_same_queries_for_ten_loans_as_for_fifty(staff, product, django_capture_on_commit_callbacks):
    counts = {}
    serial = 0
    for total in (10, 50):
        OutboxMessage.objects.filter(template=TEMPLATE).delete()
        while Loan.objects.count() < total:
            serial += 1
            loan_without_other_messages(staff, identity=resident_id(serial))
        with on(D - timedelta(days=7)), CaptureQueriesContext(connection) as queries:
            written = reminders_sweep()
        assert written == total
        counts[total] = len(queries)

    assert counts[10] == counts[50] <= 6, counts


def test_it_writes_the_sms_in_chinese_by_default(staff, product, django_capture_on_commit_callbacks):
    loan = loan_without_other_messages(staff)

    sweep(D - timedelta(days=3), callbacks=django_capture_on_commit_callbacks)

    message = reminders()[0]
    assert message.language == "zh-hans"
    text = sms.outbox[0]["text"]
    assert text.startswith(django_settings.SMS_SIGNATURE)
    assert "¥10,600.00" in text
    assert "2026年2月10日" in text
    assert loan.number in text and loan.borrower.name in text
    assert "**** 0123" in text  # the repayment account


def test_it_writes_the_sms_and_email_in_english_for_a_borrower_who_chose_it(
    staff, product, make_user, django_capture_on_commit_callbacks
):
    from django.core import mail

    loan = loan_without_other_messages(staff)
    officer = staff["officer"]
    officer.display_name, officer.phone = "Officer Zhao", "13911112222"
    officer.save(update_fields=["display_name", "phone"])
    borrower = loan.borrower
    borrower.user = make_user("reminded_borrower", Role.BORROWER, preferred_language="en")
    borrower.email = "li.ming@example.com"
    borrower.save(update_fields=["user", "email"])

    assert sweep(D, callbacks=django_capture_on_commit_callbacks) == 2

    sms_message, email_message = reminders()
    assert sms_message.idempotency_key.endswith(":0") and email_message.idempotency_key.endswith(":0:email")
    assert {sms_message.language, email_message.language} == {"en"}
    text = sms.outbox[0]["text"]
    assert "¥10,600.00" in text and "10 February 2026" in text and "is due today" in text
    assert "Officer Zhao 13911112222" in text
    [email] = mail.outbox
    assert email.to == ["li.ming@example.com"]
    assert email.subject == f"Loan {loan.number}: installment 1 is due today"
    assert "¥10,600.00" in email.body and "10 February 2026" in email.body


def test_it_skips_loans_that_are_not_open(staff, product, django_capture_on_commit_callbacks):
    loan = loan_without_other_messages(staff)
    Loan.objects.filter(pk=loan.pk).update(status="written_off")

    assert sweep(D - timedelta(days=7), callbacks=django_capture_on_commit_callbacks) == 0


def test_the_sweep_task_is_registered_routed_to_sweeps_and_scheduled_hourly(
    staff, product, django_capture_on_commit_callbacks
):
    celery_app.loader.import_default_modules()
    assert "postloan.tasks.sweep_reminders" in celery_app.tasks
    route = celery_app.amqp.router.route({}, "postloan.tasks.sweep_reminders")
    assert route["queue"].name == "sweeps"
    assert django_settings.PERIODIC_TASKS["postloan: repayment reminders"] == {
        "task": "postloan.tasks.sweep_reminders",
        "crontab": {"minute": "5"},
        "queue": "sweeps",
    }

    loan_without_other_messages(staff)
    with on(D - timedelta(days=7)), django_capture_on_commit_callbacks(execute=True):
        assert celery_app.tasks["postloan.tasks.sweep_reminders"].delay().get() == 1
    assert len(sms.outbox) == 1
