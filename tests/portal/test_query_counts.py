"""The portal's lists cost the same number of queries whatever the number of rows they show."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followups.services import inquiries as inquiry_services
from notifications.models import OutboxMessage
from tests.applications.factories import make_application


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _more_messages(user, count, batch):
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            idempotency_key=f"extra:{batch}:{number}",
            channel="sms",
            recipient=user,
            to_address="13800138000",
            template="application_received",
            status="sent",
            sent_at=timezone.now(),
            body=f"Message {number}",
        )
        for number in range(count)
    )


def test_overview_messages_and_questions_do_not_grow_with_rows(client, world, staff):
    owner, user = world["owner"], world["owner_user"]
    client.force_login(user)
    urls = [reverse("portal:home"), reverse("portal:messages"), reverse("portal:inquiries")]
    _more_messages(user, 2, "a")
    client.get(urls[0])  # the first request after signing in starts the idle expiry: a write of the session
    before = [_queries(client, url) for url in urls]

    for number in range(4):
        make_application(staff["officer"], borrower=owner, amount=f"{20000 + number}.00")
        inquiry = inquiry_services.inquiry_create(
            borrower=owner, by=user, category="product", question=f"Which product suits me? ({number})"
        )
        inquiry_services.inquiry_reply(inquiry=inquiry, by=staff["officer"], text="Let us talk.")
    _more_messages(user, 15, "b")
    after = [_queries(client, url) for url in urls]

    assert after == before
