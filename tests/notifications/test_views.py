"""The outbox page: who may see it, what it shows, and its two actions (retry, test message)."""

from datetime import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from core.dates import SHANGHAI
from notifications.models import OutboxMessage
from notifications.services import message_queue

pytestmark = pytest.mark.django_db

OUTBOX_URL = reverse("notifications:outbox")
TEST_URL = reverse("notifications:outbox_test")
DAYTIME = datetime(2026, 3, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _daytime():
    with time_machine.travel(DAYTIME, tick=False):
        yield


def make_message(key: str = "reminder:9:0", *, status: str = OutboxMessage.Status.PENDING, **fields) -> OutboxMessage:
    message = message_queue(
        key=key,
        channel=fields.pop("channel", OutboxMessage.Channel.SMS),
        template="test_message",
        to_address=fields.pop("to_address", "13812345678"),
        context={"name": "Li Lei"},
        language="en",
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=status, **fields)
    message.refresh_from_db()
    return message


def retry_url(message: OutboxMessage) -> str:
    return reverse("notifications:outbox_retry", args=[message.pk])


# --- who may see it -------------------------------------------------------------------------------------------------


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(OUTBOX_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_it_refuses_an_officer(client, officer):
    client.force_login(officer)
    assert client.get(OUTBOX_URL).status_code == 403


def test_it_refuses_an_officer_the_actions(client, officer, django_capture_on_commit_callbacks):
    message = make_message(status=OutboxMessage.Status.FAILED)
    client.force_login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(retry_url(message)).status_code == 403
        assert client.post(TEST_URL, {"channel": "email", "to_address": "x@example.com"}).status_code == 403
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.FAILED
    assert OutboxMessage.objects.count() == 1
    assert mail.outbox == []


# --- what it shows --------------------------------------------------------------------------------------------------


def test_it_shows_messages_to_an_administrator_with_phone_numbers_masked(client, administrator):
    failed = make_message(status=OutboxMessage.Status.FAILED, attempts=5, last_error="SmsError: gateway said no")
    client.force_login(administrator)

    response = client.get(OUTBOX_URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert f'data-testid="outbox-row-{failed.pk}"' in content
    assert "138****5678" in content
    assert "13812345678" not in content
    assert "gateway said no" in content
    assert retry_url(failed) in content
    assert response.context["status_counts"][3][2] == 1  # failed: 1


def test_it_counts_messages_by_status_in_the_heading(client, administrator):
    make_message("a", status=OutboxMessage.Status.SENT)
    make_message("b", status=OutboxMessage.Status.SENT)
    make_message("c", status=OutboxMessage.Status.FAILED)
    client.force_login(administrator)

    response = client.get(OUTBOX_URL)

    counts = {value: count for value, _label, count in response.context["status_counts"]}
    assert counts == {"pending": 0, "sending": 0, "sent": 2, "failed": 1, "cancelled": 0}
    assert response.context["total_count"] == 3


def test_it_filters_by_status_and_search_text(client, administrator):
    sent = make_message("a", status=OutboxMessage.Status.SENT, to_address="13800000001")
    failed = make_message("b", status=OutboxMessage.Status.FAILED, to_address="13800000002")
    client.force_login(administrator)

    by_status = client.get(OUTBOX_URL, {"status": "failed"})
    by_text = client.get(OUTBOX_URL, {"q": "13800000001"})

    assert list(by_status.context["page_obj"]) == [failed]
    assert list(by_text.context["page_obj"]) == [sent]


def test_it_pages_fifty_messages_at_a_time(client, administrator):
    for number in range(51):
        make_message(f"bulk:{number}", status=OutboxMessage.Status.SENT)
    client.force_login(administrator)

    first = client.get(OUTBOX_URL)
    second = client.get(OUTBOX_URL, {"page": 2})

    assert len(first.context["page_obj"]) == 50
    assert len(second.context["page_obj"]) == 1


def test_it_says_what_to_do_when_the_outbox_is_empty(client, administrator):
    client.force_login(administrator)
    response = client.get(OUTBOX_URL)
    assert b'data-testid="empty-state"' in response.content
    assert b"send a test message below" in response.content


def test_it_offers_to_clear_filters_that_match_nothing(client, administrator):
    make_message(status=OutboxMessage.Status.SENT)
    client.force_login(administrator)
    response = client.get(OUTBOX_URL, {"status": "failed"})
    assert b"No messages match these filters." in response.content


# --- retry ----------------------------------------------------------------------------------------------------------


def test_retry_sends_a_failed_message_again(client, administrator, sms_outbox, django_capture_on_commit_callbacks):
    message = make_message(status=OutboxMessage.Status.FAILED, attempts=5, last_error="SmsError: down")
    client.force_login(administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(retry_url(message), {"next": f"{OUTBOX_URL}?status=failed"})

    assert response.status_code == 302
    assert response.url == f"{OUTBOX_URL}?status=failed"
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert message.attempts == 1
    assert len(sms_outbox) == 1
    page = client.get(OUTBOX_URL)
    assert "138****5678 will be sent again" in page.content.decode()


def test_retry_leaves_a_message_that_has_not_failed_alone(client, administrator, sms_outbox):
    message = make_message(status=OutboxMessage.Status.SENT, attempts=1)
    client.force_login(administrator)

    response = client.post(retry_url(message), follow=True)

    assert b"Only a failed message can be retried" in response.content
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT
    assert sms_outbox == []


def test_retry_ignores_a_next_address_on_another_site(client, administrator):
    message = make_message(status=OutboxMessage.Status.FAILED)
    client.force_login(administrator)
    response = client.post(retry_url(message), {"next": "https://evil.example.com/"})
    assert response.url == OUTBOX_URL


def test_retry_needs_post(client, administrator):
    message = make_message(status=OutboxMessage.Status.FAILED)
    client.force_login(administrator)
    assert client.get(retry_url(message)).status_code == 405


def test_retry_of_a_missing_message_is_404(client, administrator):
    client.force_login(administrator)
    assert client.post(reverse("notifications:outbox_retry", args=[999999])).status_code == 404


# --- test message ---------------------------------------------------------------------------------------------------


def test_an_administrator_can_send_a_test_email(client, administrator, django_capture_on_commit_callbacks):
    client.force_login(administrator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(TEST_URL, {"channel": "email", "to_address": "ops@example.com"}, follow=True)

    assert response.redirect_chain == [(OUTBOX_URL, 302)]
    assert b"A test message to ops@example.com is queued" in response.content
    assert [email.to for email in mail.outbox] == [["ops@example.com"]]
    message = OutboxMessage.objects.get()
    assert message.template == "test_message"
    assert message.recipient == administrator
    assert message.status == OutboxMessage.Status.SENT


def test_an_administrator_can_send_a_test_sms(client, administrator, sms_outbox, django_capture_on_commit_callbacks):
    client.force_login(administrator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(TEST_URL, {"channel": "sms", "to_address": "+86 139 1234 5678"})
    assert [sms["to"] for sms in sms_outbox] == ["13912345678"]


def test_a_test_message_to_an_invalid_address_shows_the_error(client, administrator):
    client.force_login(administrator)

    response = client.post(TEST_URL, {"channel": "sms", "to_address": "ops@example.com"})

    assert response.status_code == 400
    assert response.context["test_form"].errors["to_address"]
    assert OutboxMessage.objects.count() == 0


def test_the_test_message_form_needs_post(client, administrator):
    client.force_login(administrator)
    assert client.get(TEST_URL).status_code == 405
