"""`manage.py seed_demo` gives two demo borrowers a portal login (mobile number + the demo password): 张伟 with a loan,
an application in review whose proof of income the reviewer rejected, an open and an answered question and the
messages we sent him; 朱琳 with a draft whose risk disclosure her officer asked her to acknowledge. A second run adds
nothing. Seeded once per module inside a rolled-back transaction (tests/seeding.py)."""

from dataclasses import dataclass
from importlib import import_module

import pytest
from django.apps import apps
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from applications.models import ApplicationStatus, Borrower, Material, PortalInvitation
from followups.models import Inquiry, InquiryStatus
from notifications.models import OutboxMessage
from portal import demo
from postloan.models import LoanStatus
from tests.seeding import module_transaction, row_counts, seed_demo

pytestmark = pytest.mark.django_db

LOAN_MOBILE = "13810261457"  # 张伟, applications.demo.BORROWERS
DRAFT_MOBILE = "13916278840"  # 朱琳


@dataclass(frozen=True)
class Seeded:
    output: str
    media_root: str


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    media_root = tmp_path_factory.mktemp("media")
    with module_transaction(django_db_blocker, media_root):
        # The reply library as `migrate` writes it: a transactional test run earlier (the browser journeys) flushes
        # data migrations' rows.
        import_module("followups.migrations.0003_reply_library").create_library(apps, None)
        yield Seeded(output=seed_demo(), media_root=str(media_root))


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    """The sign-in brake counts per IP address in the cache (Redis when REDIS_URL is set), across test runs too."""
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, mobile: str):
    return client.post(reverse("portal:login"), {"mobile": mobile, "password": DEMO_PASSWORD})


def _borrower(mobile: str) -> Borrower:
    return Borrower.objects.select_related("user").get(mobile=mobile)


def _in_review(borrower: Borrower):
    return borrower.applications.get(purpose=demo.IN_REVIEW.purpose)


def test_the_output_names_both_portal_logins(seeded):
    line = next(line for line in seeded.output.splitlines() if line.startswith("portal:"))

    assert f"{LOAN_MOBILE} 张伟" in line and f"{DRAFT_MOBILE} 朱琳" in line
    assert DEMO_PASSWORD in line
    assert "2 new accounts, 1 new applications, 2 new inquiries, 1 disclosure requests" in line


def test_the_borrower_with_a_loan_signs_in_by_mobile_and_sees_the_application_and_the_loan(seeded, client):
    borrower = _borrower(LOAN_MOBILE)
    loan = borrower.loans.get(status=LoanStatus.ACTIVE)
    application = _in_review(borrower)

    response = _sign_in(client, LOAN_MOBILE)

    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert application.number in home.content.decode()
    assert loan.number in home.content.decode()


def test_the_application_in_review_shows_the_material_the_reviewer_rejected(seeded, client, settings):
    settings.MEDIA_ROOT = seeded.media_root
    borrower = _borrower(LOAN_MOBILE)
    application = _in_review(borrower)

    assert application.status == ApplicationStatus.INITIAL_REVIEW
    assert application.officer.username == "officer_bj"
    assert application.initial_reviewer.username == "reviewer_bj"
    rejected = application.materials.get(status=Material.Status.REJECTED)
    assert rejected.requirement.code == demo.IN_REVIEW.rejected
    assert rejected.reviewed_by.username == "reviewer_bj"
    assert not application.materials.exclude(pk=rejected.pk).exclude(status=Material.Status.ACCEPTED).exists()
    # Everything happened before now, in order.
    times = list(application.events.order_by("pk").values_list("created_at", flat=True))
    assert times == sorted(times) and times[-1] < timezone.now()

    _sign_in(client, LOAN_MOBILE)
    page = client.get(reverse("portal:application", args=[application.number]))
    assert page.status_code == 200
    assert demo.IN_REVIEW.reason in page.content.decode()


def test_the_borrower_has_one_open_and_one_answered_question(seeded, client):
    borrower = _borrower(LOAN_MOBILE)
    loan = borrower.loans.get(status=LoanStatus.ACTIVE)
    inquiries = Inquiry.objects.filter(borrower=borrower)

    assert inquiries.count() == 2
    waiting = inquiries.get(status=InquiryStatus.OPEN)
    assert waiting.category == "progress" and waiting.application == _in_review(borrower)
    answered = inquiries.get(status=InquiryStatus.ANSWERED)
    assert answered.category == "repayment" and answered.loan == loan
    reply = answered.replies.get()
    assert reply.author == loan.officer == answered.assignee
    assert reply.template.code == "repayment-how-to-pay"
    assert loan.number in reply.text and borrower.name in reply.text and "{" not in reply.text
    assert answered.created_at < answered.answered_at < waiting.created_at <= timezone.now()
    assert answered.response_minutes > 0

    _sign_in(client, LOAN_MOBILE)
    page = client.get(reverse("portal:inquiry", args=[answered.pk]))
    assert page.status_code == 200
    assert loan.number in page.content.decode()


def test_the_messages_page_lists_what_the_outbox_sent_the_borrower(seeded, client):
    user = _borrower(LOAN_MOBILE).user
    sent = OutboxMessage.objects.filter(recipient=user, status=OutboxMessage.Status.SENT)

    assert sent.count() >= 3
    templates = set(sent.values_list("template", flat=True))
    assert {"portal_invitation", "application_materials_missing", "inquiry_answered"} <= templates
    assert all(message.body and message.sent_at < timezone.now() for message in sent)

    _sign_in(client, LOAN_MOBILE)
    page = client.get(reverse("portal:messages"))
    assert page.status_code == 200
    answered = sent.get(template="inquiry_answered")
    assert answered.context["number"] in page.content.decode()


def test_the_second_borrower_has_a_draft_waiting_for_her_and_no_loan(seeded, client):
    borrower = _borrower(DRAFT_MOBILE)
    draft = borrower.applications.get(status=ApplicationStatus.DRAFT)

    assert borrower.user.preferred_language == "zh-hans"
    assert draft.disclosure_requested_at is not None
    assert draft.materials.filter(is_required=True, status=Material.Status.MISSING).exists()
    assert not borrower.loans.exists()

    assert _sign_in(client, DRAFT_MOBILE).status_code == 302
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert draft.number in home.content.decode()
    assert client.get(reverse("portal:disclosure", args=[draft.number])).status_code == 200


def test_a_second_run_adds_nothing(seeded):
    first = row_counts()
    users, invitations, inquiries = User.objects.count(), PortalInvitation.objects.count(), Inquiry.objects.count()

    output = seed_demo()

    assert (User.objects.count(), PortalInvitation.objects.count(), Inquiry.objects.count()) == (
        users,
        invitations,
        inquiries,
    )
    assert row_counts() == first
    assert "0 new accounts, 0 new applications, 0 new inquiries, 0 disclosure requests" in output
