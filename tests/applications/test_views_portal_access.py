"""The officer's side of portal access: inviting a borrower to the portal from the borrower's page, and asking them to
acknowledge the risk disclosure there from the application's disclosure page."""

from datetime import datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.roles import Role
from applications import services
from applications.models import Application, Borrower, PortalInvitation
from core.dates import SHANGHAI
from notifications.models import OutboxMessage

from .factories import RESIDENT_IDS, make_application, make_borrower

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english_and_local_messages(staff, settings):
    User.objects.update(preferred_language="en")
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def borrower(staff, clock) -> Borrower:
    """李明 of Beijing, mobile 13800138000, without a portal account."""
    return make_borrower(staff["officer"])


def give_account(borrower: Borrower, make_user, *, last_login=None) -> User:
    user = make_user(f"borrower-{borrower.pk}", Role.BORROWER, last_login=last_login)
    borrower.user = user
    borrower.save()
    return user


def page(client, user, borrower):
    client.force_login(user)
    return client.get(reverse("applications:borrower_detail", args=[borrower.pk]))


def invite(client, user, borrower, follow=False):
    client.force_login(user)
    return client.post(reverse("applications:borrower_invite", args=[borrower.pk]), follow=follow)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- the invitation -----------------------------------------------------------------------------------------------
def test_the_officer_sees_the_invite_button_and_other_roles_do_not(client, staff, borrower):
    html = page(client, staff["officer"], borrower).content.decode()
    assert 'data-testid="invite-borrower"' in html and "Invite to the borrower portal" in html
    assert "No portal account yet." in html

    for role in ("reviewer", "manager"):
        html = page(client, staff[role], borrower).content.decode()
        assert 'data-testid="portal-card"' in html and 'data-testid="invite-borrower"' not in html


def test_inviting_sends_a_link_by_sms_and_shows_it_pending(client, staff, borrower):
    response = invite(client, staff["officer"], borrower, follow=True)

    invitation = PortalInvitation.objects.get(borrower=borrower)
    assert invitation.created_by == staff["officer"] and invitation.expires_at == NOW + timedelta(hours=72)
    sms = OutboxMessage.objects.get(template="portal_invitation", channel="sms")
    assert sms.to_address == "13800138000"
    assert sms.context["link"].startswith("http") and "/portal/welcome/" in sms.context["link"]
    assert response.redirect_chain[-1][0].startswith(reverse("applications:borrower_detail", args=[borrower.pk]))
    assert messages_of(response) == ["The invitation is sent to 138****8000; the link works until 2026-03-06 10:00."]
    html = response.content.decode()
    assert "Invitation sent, link valid until 2026-03-06 10:00." in html
    assert 'data-testid="invite-borrower"' in html  # a new link may be sent, ending this one


def test_a_new_invitation_replaces_the_pending_one(client, staff, borrower, clock):
    invite(client, staff["officer"], borrower, follow=True)
    clock.move_to(NOW + timedelta(hours=1), tick=False)
    html = invite(client, staff["officer"], borrower, follow=True).content.decode()

    assert PortalInvitation.objects.filter(borrower=borrower).count() == 2
    assert "Invitation sent, link valid until 2026-03-06 11:00." in html
    assert "2026-03-06 10:00" not in html


def test_an_expired_invitation_is_not_shown_as_pending(client, staff, borrower, clock):
    invite(client, staff["officer"], borrower)
    clock.move_to(NOW + timedelta(hours=73), tick=False)
    html = page(client, staff["officer"], borrower).content.decode()
    assert "Invitation sent" not in html and "Invite to the borrower portal" in html


def test_a_borrower_with_an_account_is_not_invited_again(client, staff, borrower, make_user):
    give_account(borrower, make_user, last_login=NOW - timedelta(days=2))

    html = page(client, staff["officer"], borrower).content.decode()
    assert "Has a portal account" in html and "last signed in on 2026-03-01" in html
    assert 'data-testid="invite-borrower"' not in html

    response = invite(client, staff["officer"], borrower, follow=True)
    assert messages_of(response) == [
        "李明 already has a portal account. A forgotten password is reset from the sign-in page."
    ]
    assert not PortalInvitation.objects.exists()
    assert not OutboxMessage.objects.filter(template="portal_invitation").exists()


def test_only_officers_of_the_branch_may_invite(client, staff, borrower):
    assert invite(client, staff["reviewer"], borrower).status_code == 403
    assert invite(client, staff["manager"], borrower).status_code == 403
    assert invite(client, staff["other_officer"], borrower).status_code == 404
    assert not PortalInvitation.objects.exists()


# --- the disclosure on the portal ---------------------------------------------------------------------------------
@pytest.fixture
def application(staff, borrower, product) -> Application:
    return make_application(staff["officer"], borrower=borrower, product=product)


def disclosure_page(client, user, application):
    client.force_login(user)
    return client.get(reverse("applications:disclosure", args=[application.pk]))


def request_disclosure(client, user, application, follow=False):
    client.force_login(user)
    return client.post(reverse("applications:disclosure_request", args=[application.pk]), follow=follow)


def test_the_assigned_officer_asks_the_borrower_on_the_portal(client, staff, application, make_user):
    give_account(application.borrower, make_user)
    html = disclosure_page(client, staff["officer"], application).content.decode()
    assert 'data-testid="request-disclosure"' in html
    assert "Ask the borrower to acknowledge on the portal" in html

    response = request_disclosure(client, staff["officer"], application, follow=True)

    assert Application.objects.get(pk=application.pk).disclosure_requested_at == NOW
    sms = OutboxMessage.objects.get(template="portal_disclosure_requested")
    assert sms.channel == "sms" and sms.to_address == "13800138000"
    assert f"/portal/applications/{application.number}/disclosure/" in sms.context["link"]
    assert response.redirect_chain[-1][0] == reverse("applications:disclosure", args=[application.pk])
    assert messages_of(response) == ["李明 is asked by SMS to read and acknowledge the risk disclosure on the portal."]
    assert "Requested on 2026-03-03 10:00" in response.content.decode()


def test_another_officer_is_refused(client, staff, application, make_user):
    give_account(application.borrower, make_user)
    html = disclosure_page(client, staff["officer2"], application).content.decode()
    assert 'data-testid="request-disclosure"' not in html

    assert request_disclosure(client, staff["officer2"], application).status_code == 403
    assert request_disclosure(client, staff["reviewer"], application).status_code == 403
    assert request_disclosure(client, staff["other_officer"], application).status_code == 404
    assert Application.objects.get(pk=application.pk).disclosure_requested_at is None
    assert not OutboxMessage.objects.filter(template="portal_disclosure_requested").exists()


def test_without_a_portal_account_the_page_points_to_the_invitation(client, staff, application):
    html = disclosure_page(client, staff["officer"], application).content.decode()
    assert 'data-testid="request-disclosure"' not in html
    assert reverse("applications:borrower_detail", args=[application.borrower_id]) + "#portal" in html

    response = request_disclosure(client, staff["officer"], application, follow=True)
    assert messages_of(response) == [
        "The borrower has no portal account yet; invite them from the borrower page first."
    ]
    assert Application.objects.get(pk=application.pk).disclosure_requested_at is None


def test_no_button_once_acknowledged_or_submitted(client, staff, application, make_user):
    give_account(application.borrower, make_user)
    services.disclosure_acknowledge(application=application, by=staff["officer"])
    html = disclosure_page(client, staff["officer"], application).content.decode()
    assert 'data-testid="acknowledged"' in html and 'data-testid="request-disclosure"' not in html

    other = make_application(
        staff["officer"],
        borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile="13911112222"),
    )
    give_account(other.borrower, make_user)
    Application.objects.filter(pk=other.pk).update(status="submitted")
    html = disclosure_page(client, staff["officer"], other).content.decode()
    assert 'data-testid="request-disclosure"' not in html
