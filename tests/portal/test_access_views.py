"""Signing in to the portal through the pages: by mobile number, lockout after 5 failures, the invitation link (once,
and not after it expired), the reset code, the idle timeout and the brakes on the public forms."""

from datetime import datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications import portal as portal_services
from applications.models import PortalInvitation, PortalResetCode
from core.dates import SHANGHAI
from notifications.models import OutboxMessage

from .conftest import PASSWORD


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _sign_in(client, mobile, password=PASSWORD):
    return client.post(reverse("portal:login"), {"mobile": mobile, "password": password})


def test_sign_in_by_mobile_number_lands_on_the_overview(client, world):
    response = _sign_in(client, world["owner"].mobile)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    page = client.get(reverse("portal:home")).content.decode()
    assert world["loan"].number in page and world["preparing"].number in page


def test_the_session_ends_after_30_idle_minutes(client, account, settings, time_machine):
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), tick=False)
    _sign_in(client, account["owner"].mobile)
    client.get(reverse("portal:home"))
    assert client.session.get_expiry_age() == settings.PORTAL_IDLE_SECONDS == 30 * 60
    first = Session.objects.get().expire_date

    # Requests within a minute leave the session row alone; a later one moves the expiry.
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, 50, tzinfo=SHANGHAI), tick=False)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("portal:home")).status_code == 200
    assert not [query for query in queries if "django_session" in query["sql"] and "UPDATE" in query["sql"]]
    assert Session.objects.get().expire_date == first
    time_machine.move_to(datetime(2026, 3, 2, 10, 25, tzinfo=SHANGHAI), tick=False)
    assert client.get(reverse("portal:home")).status_code == 200
    assert Session.objects.get().expire_date == first + timedelta(minutes=25)

    # 30 minutes without a request: signed out.
    time_machine.move_to(datetime(2026, 3, 2, 10, 55, 1, tzinfo=SHANGHAI), tick=False)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))


def test_a_wrong_password_says_so_without_telling_whether_the_number_exists(client, account):
    known = _sign_in(client, account["owner"].mobile, "wrong-password")
    unknown = _sign_in(client, "13000000000", "wrong-password")
    assert known.status_code == unknown.status_code == 400
    assert "The mobile number or password is not right" in known.content.decode()
    assert "The mobile number or password is not right" in unknown.content.decode()


def test_five_failures_lock_the_account_even_with_the_right_password(client, account):
    mobile = account["owner"].mobile
    for _attempt in range(5):
        _sign_in(client, mobile, "wrong-password")
    response = _sign_in(client, mobile)
    assert response.status_code == 429
    assert "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_reset_ends_the_lockout_and_sets_the_new_password(client, account):
    mobile = account["owner"].mobile
    for _attempt in range(5):
        _sign_in(client, mobile, "wrong-password")
    response = client.post(reverse("portal:reset_request"), {"identifier": mobile})
    assert response.status_code == 302
    message = OutboxMessage.objects.filter(template="portal_reset_code", to_address=mobile).get()
    code = message.context["code"]
    new_password = "Another-Pass-2027"
    response = client.post(
        reverse("portal:reset_confirm"),
        {"identifier": mobile, "code": code, "password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302 and response["Location"] == reverse("portal:login")
    assert _sign_in(client, mobile, new_password).status_code == 302
    # The code worked once.
    client.post(reverse("portal:logout"))
    again = client.post(
        reverse("portal:reset_confirm"),
        {"identifier": mobile, "code": code, "password1": "Third-Pass-2028", "password2": "Third-Pass-2028"},
    )
    assert again.status_code == 400
    assert "The code is not right or has expired" in again.content.decode()


def test_a_reset_for_an_unknown_number_looks_the_same_and_sends_nothing(client, account):
    response = client.post(reverse("portal:reset_request"), {"identifier": "13000000000"}, follow=True)
    assert "If 13000000000 belongs to a portal account, a code is on its way" in response.content.decode()
    assert not PortalResetCode.objects.exists()
    assert not OutboxMessage.objects.filter(template="portal_reset_code").exists()


def test_reset_requests_are_limited_per_number(client, account):
    mobile = account["owner"].mobile
    statuses = [client.post(reverse("portal:reset_request"), {"identifier": mobile}).status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]
    assert PortalResetCode.objects.filter(borrower=account["owner"]).count() == 3


def test_the_invitation_link_works_once(client, account, staff, settings):
    from tests.applications.factories import RESIDENT_IDS, make_borrower

    borrower = make_borrower(staff["officer"], number=RESIDENT_IDS[3], name="赵六", mobile="13722223333")
    _invitation, token = portal_services.borrower_invite(borrower=borrower, by=staff["officer"])
    url = reverse("portal:accept_invitation", args=[token])
    assert "赵六" in client.get(url).content.decode()
    form = {"language": "zh-hans", "password1": PASSWORD, "password2": PASSWORD}
    response = client.post(url, form)
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    borrower.refresh_from_db()
    assert borrower.user.preferred_language == "zh-hans"
    assert list(borrower.user.groups.values_list("name", flat=True)) == ["borrower"]
    # the chosen language sticks after sign-out
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    client.post(reverse("portal:logout"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    second = client.post(url, form)
    assert second.status_code == 410
    assert "expired or was already used" in second.content.decode()


def test_an_expired_invitation_link_is_refused(client, account, staff):
    from tests.applications.factories import RESIDENT_IDS, make_borrower

    borrower = make_borrower(staff["officer"], number=RESIDENT_IDS[3], name="赵六", mobile="13722223333")
    invitation, token = portal_services.borrower_invite(borrower=borrower, by=staff["officer"])
    PortalInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("portal:accept_invitation", args=[token]))
    assert response.status_code == 410
    borrower.refresh_from_db()
    assert borrower.user_id is None


def test_a_weak_password_is_refused_and_the_link_still_works(client, account, staff):
    from tests.applications.factories import RESIDENT_IDS, make_borrower

    borrower = make_borrower(staff["officer"], number=RESIDENT_IDS[3], name="赵六", mobile="13722223333")
    _invitation, token = portal_services.borrower_invite(borrower=borrower, by=staff["officer"])
    url = reverse("portal:accept_invitation", args=[token])
    response = client.post(url, {"language": "en", "password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    assert portal_services.invitation_for(token) is not None


def test_inquiries_are_limited_per_borrower(client, world):
    client.force_login(world["owner_user"])
    url = reverse("portal:inquiries")
    for number in range(5):
        response = client.post(url, {"category": "other", "about": "", "question": f"Question {number}"})
        assert response.status_code == 302
    response = client.post(url, {"category": "other", "about": "", "question": "One too many"}, follow=True)
    assert "You have sent several questions in the last hour" in response.content.decode()
    assert world["owner"].inquiries.count() == 6  # the five plus the world's answered one


def test_every_portal_form_carries_a_csrf_token(client, world):
    client.force_login(world["owner_user"])
    for url in (
        reverse("portal:inquiries"),
        reverse("portal:preferences"),
        reverse("portal:application", args=[world["preparing"].number]),
        reverse("portal:disclosure", args=[world["preparing"].number]),
        reverse("portal:inquiry", args=[world["inquiry"].pk]),
    ):
        html = client.get(url).content.decode()
        assert html.count("<form") >= 1
        assert html.count('method="post"') <= html.count("csrfmiddlewaretoken")
