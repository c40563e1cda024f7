"""Repayment reminders follow the borrower's consent from the portal: a queued reminder by a channel the borrower
turned off is cancelled with the reason when its turn comes, and the other channel still goes out."""

from datetime import timedelta

import pytest
from django.core import mail

from accounts.roles import Role
from applications.models import Borrower
from applications.portal import contact_preferences_save
from notifications import sms
from notifications.models import OutboxMessage
from notifications.services import outbox_sweep
from postloan.models import Loan
from postloan.reminders import TEMPLATE, reminder_cancel_reason, reminders_sweep
from tests.postloan.factories import FIRST_DUE, disbursed_loan, on

pytestmark = pytest.mark.django_db

REMINDER_DAY = FIRST_DUE - timedelta(days=7)  # the first reminder of installment 1
EMAIL = "li.ming@example.com"
SMS_OFF = "The borrower has turned off repayment reminders by SMS."
EMAIL_OFF = "The borrower has turned off repayment reminders by email."
Status = OutboxMessage.Status


@pytest.fixture(autouse=True)
def _empty_outboxes():
    sms.outbox.clear()
    mail.outbox = []
    yield
    sms.outbox.clear()


@pytest.fixture
def loan(staff, product) -> Loan:
    """A disbursed loan whose borrower gave an email address; the application journey's messages are taken out."""
    loan = disbursed_loan(staff)
    borrower = loan.borrower
    borrower.email = EMAIL
    borrower.save(update_fields=["email"])
    OutboxMessage.objects.exclude(template=TEMPLATE).delete()
    return loan


def queue_reminders() -> tuple[OutboxMessage, OutboxMessage]:
    """Write the day's reminders without sending them (the send runs after commit, which a test never reaches)."""
    with on(REMINDER_DAY):
        assert reminders_sweep() == 2
    by_sms, by_email = OutboxMessage.objects.filter(template=TEMPLATE).order_by("pk")
    assert (by_sms.channel, by_email.channel) == ("sms", "email")
    assert by_sms.status == by_email.status == Status.PENDING
    return by_sms, by_email


def consent(loan: Loan, *, by_sms: bool, by_email: bool) -> None:
    # As the borrower's portal settings page leaves it.
    Borrower.objects.filter(pk=loan.borrower_id).update(sms_reminders=by_sms, email_reminders=by_email)


def send_due() -> int:
    with on(REMINDER_DAY, 11):
        return outbox_sweep()


def reason(message: OutboxMessage) -> str:
    """What the outbox would say about the message at its send time ("" to send it)."""
    with on(REMINDER_DAY, 11):
        return str(reminder_cancel_reason(message))


def fresh(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def test_with_both_consents_both_reminders_go_out(loan):
    by_sms, by_email = queue_reminders()

    assert reason(by_sms) == reason(by_email) == ""
    assert send_due() == 2

    assert fresh(by_sms).status == fresh(by_email).status == Status.SENT
    assert [entry["to"] for entry in sms.outbox] == [loan.borrower.mobile]
    assert [email.to for email in mail.outbox] == [[EMAIL]]


def test_a_queued_sms_reminder_is_cancelled_when_the_borrower_turned_sms_off(loan):
    by_sms, by_email = queue_reminders()
    consent(loan, by_sms=False, by_email=True)

    assert reason(by_sms) == SMS_OFF
    assert reason(by_email) == ""
    assert send_due() == 1

    by_sms, by_email = fresh(by_sms), fresh(by_email)
    assert (by_sms.status, by_sms.last_error, by_sms.sent_at, by_sms.attempts) == (Status.CANCELLED, SMS_OFF, None, 0)
    assert by_email.status == Status.SENT
    assert sms.outbox == []
    assert [email.to for email in mail.outbox] == [[EMAIL]]


def test_a_queued_email_reminder_is_cancelled_when_the_borrower_turned_email_off(loan):
    by_sms, by_email = queue_reminders()
    consent(loan, by_sms=True, by_email=False)

    assert reason(by_email) == EMAIL_OFF
    assert reason(by_sms) == ""
    assert send_due() == 1

    by_sms, by_email = fresh(by_sms), fresh(by_email)
    assert (by_email.status, by_email.last_error, by_email.sent_at) == (Status.CANCELLED, EMAIL_OFF, None)
    assert by_sms.status == Status.SENT
    assert mail.outbox == []
    assert [entry["to"] for entry in sms.outbox] == [loan.borrower.mobile]


def test_with_both_turned_off_nothing_goes_out(loan):
    by_sms, by_email = queue_reminders()
    consent(loan, by_sms=False, by_email=False)

    assert send_due() == 0

    assert [(fresh(message).status, fresh(message).last_error) for message in (by_sms, by_email)] == [
        (Status.CANCELLED, SMS_OFF),
        (Status.CANCELLED, EMAIL_OFF),
    ]
    assert sms.outbox == [] and mail.outbox == []


def test_consent_given_back_before_the_send_lets_the_reminder_go(loan):
    by_sms, _by_email = queue_reminders()
    consent(loan, by_sms=False, by_email=True)
    consent(loan, by_sms=True, by_email=True)

    send_due()

    assert fresh(by_sms).status == Status.SENT
    assert len(sms.outbox) == 1


def test_the_borrowers_own_settings_page_choice_cancels_the_queued_sms(staff, loan, make_user):
    borrower = loan.borrower
    user = make_user("consent_borrower", Role.BORROWER)
    borrower.user = user
    borrower.save(update_fields=["user"])
    by_sms, by_email = queue_reminders()

    contact_preferences_save(
        borrower=borrower,
        by=user,
        language="zh-hans",
        sms_reminders=False,
        email_reminders=True,
        contact_from_hour=9,
        contact_to_hour=18,
    )
    send_due()

    assert (fresh(by_sms).status, fresh(by_sms).last_error) == (Status.CANCELLED, SMS_OFF)
    assert fresh(by_email).status == Status.SENT
    assert sms.outbox == []
    assert len(mail.outbox) == 1
