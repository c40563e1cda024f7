"""The borrower portal's rules, through applications.portal: the officer's invitation and its one-time link, sign-in by
mobile number, password reset by code, contact preferences, a missing material sent by the borrower and the risk
disclosure acknowledged online."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from accounts.roles import Role
from applications import portal, services
from applications.models import (
    Application,
    ApplicationEvent,
    Borrower,
    DisclosureAcknowledgement,
    Material,
    PortalInvitation,
    PortalResetCode,
    RiskDisclosure,
    TransitionError,
)
from core.dates import SHANGHAI
from notifications.models import OutboxMessage
from notifications.services import _render_message, message_queue
from tests.conftest import TEST_PASSWORD

from .factories import PDF_BYTES, PNG_BYTES, RESIDENT_IDS, make_application, make_borrower, make_product, pdf, submitted

pytestmark = pytest.mark.django_db

MOBILE = "13800138000"
EMAIL = "li.ming@example.com"
NEW_PASSWORD = "Quiet-River-2026"
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


# --- helpers -------------------------------------------------------------------------------------------------------
@pytest.fixture
def borrower(staff) -> Borrower:
    """李明, mobile 13800138000, no email, taken in by the Beijing officer; no portal account yet."""
    return make_borrower(staff["officer"])


def with_account(borrower: Borrower, make_user, username: str = "b1", language: str = "zh-hans") -> User:
    user = make_user(username, Role.BORROWER, preferred_language=language)
    borrower.user = user
    borrower.save(update_fields=["user"])
    return user


def other_borrower(staff, *, mobile: str = "13900139000", **fields) -> Borrower:
    return make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile=mobile, **fields)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def messages(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("pk"))


def text_of(message: OutboxMessage) -> str:
    """The message as the borrower reads it (subject and body for an email)."""
    subject, body = _render_message(message)
    return f"{subject}\n{body}"


def invite(borrower: Borrower, staff) -> tuple[PortalInvitation, str]:
    return portal.borrower_invite(borrower=borrower, by=staff["officer"])


def accept(token: str, *, password: str = NEW_PASSWORD, language: str = "en") -> User:
    return portal.invitation_accept(token=token, password=password, language=language)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [item for item in root.rglob("*") if item.is_file()] if root.exists() else []


def borrower_users() -> list[User]:
    return list(User.objects.filter(username__startswith="borrower-"))


# --- the invitation ------------------------------------------------------------------------------------------------
def test_the_officer_invites_a_borrower_by_sms_with_a_link_valid_for_72_hours(clock, staff, borrower):
    officer = staff["officer"]

    invitation, token = portal.borrower_invite(borrower=borrower, by=officer)

    invitation = fresh(invitation)
    assert invitation.borrower == borrower
    assert invitation.created_by == officer
    assert invitation.expires_at == NOW + timedelta(hours=72)
    assert invitation.used_at is None
    assert portal.invitation_for(token) == invitation

    link = f"{settings.SITE_URL.rstrip('/')}{reverse('portal:accept_invitation', args=[token])}"
    assert token in link
    [sms] = messages("portal_invitation")  # no email: the borrower gave none
    assert (sms.channel, sms.to_address, sms.audience) == ("sms", MOBILE, "borrower")
    assert sms.recipient is None  # no account yet
    assert sms.language == settings.LANGUAGE_CODE
    assert sms.context == {"name": "李明", "link": link, "hours": 72, "officer": str(officer)}
    assert link in text_of(sms)


def test_the_invitation_goes_by_email_too_when_the_borrower_gave_an_address(staff):
    borrower = make_borrower(staff["officer"], email=EMAIL)

    _invitation, token = invite(borrower, staff)

    sms, email = messages("portal_invitation")
    assert (sms.channel, sms.to_address) == ("sms", MOBILE)
    assert (email.channel, email.to_address) == ("email", EMAIL)
    assert token in email.context["link"]
    assert email.context["link"] in text_of(email)


def test_only_a_hash_of_the_link_is_stored(staff, borrower):
    invitation, token = invite(borrower, staff)

    row = PortalInvitation.objects.filter(pk=invitation.pk).values().get()
    assert not any(token in str(value) for value in row.values())
    assert len(row["token_hash"]) == 64 and row["token_hash"] != token
    assert len(token) >= 40  # 32 random bytes


def test_only_an_officer_invites(staff, borrower, branches, make_user):
    administrator = make_user("portal_admin", Role.ADMIN, branch=branches["BJ"], is_staff=True)
    borrower_user = with_account(other_borrower(staff), make_user)
    others = [staff[role] for role in ("reviewer", "approver", "manager", "risk")] + [administrator, borrower_user]

    for user in others:
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            portal.borrower_invite(borrower=borrower, by=user)

    assert PortalInvitation.objects.count() == 0
    assert messages("portal_invitation") == []


def test_an_officer_of_another_branch_may_not_invite(staff, borrower):
    with pytest.raises(PermissionDenied, match="another branch"):
        portal.borrower_invite(borrower=borrower, by=staff["other_officer"])

    assert PortalInvitation.objects.count() == 0
    assert messages("portal_invitation") == []


def test_another_officer_of_the_branch_may_invite(staff, borrower):
    invitation, _token = portal.borrower_invite(borrower=borrower, by=staff["officer2"])

    assert invitation.created_by == staff["officer2"]


def test_a_borrower_who_has_an_account_is_not_invited_again(staff, borrower, make_user):
    with_account(borrower, make_user)

    with pytest.raises(TransitionError, match="already has a portal account"):
        invite(borrower, staff)

    assert PortalInvitation.objects.count() == 0
    assert messages("portal_invitation") == []


def test_no_invitation_when_another_borrower_with_the_same_mobile_has_an_account(staff, borrower, make_user):
    with_account(other_borrower(staff, mobile=MOBILE), make_user)

    with pytest.raises(TransitionError, match=f"mobile number {MOBILE} already has a portal account"):
        invite(borrower, staff)

    assert PortalInvitation.objects.count() == 0
    assert messages("portal_invitation") == []


def test_sharing_a_mobile_with_a_borrower_without_an_account_does_not_stop_an_invitation(staff, borrower):
    other_borrower(staff, mobile=MOBILE)

    invitation, _token = invite(borrower, staff)

    assert invitation.borrower == borrower


def test_a_new_invitation_ends_the_earlier_unused_one(clock, staff, borrower):
    first, first_token = invite(borrower, staff)
    clock.shift(timedelta(hours=1))

    second, second_token = invite(borrower, staff)

    assert portal.invitation_for(first_token) is None
    assert portal.invitation_for(second_token) == second
    assert fresh(first).expires_at == NOW + timedelta(hours=1)
    assert fresh(first).used_at is None
    assert len(messages("portal_invitation")) == 2
    with pytest.raises(TransitionError, match="expired or was already used"):
        accept(first_token)
    assert accept(second_token).borrower_profile == borrower


def test_an_unknown_link_stands_for_no_invitation(staff, borrower):
    invite(borrower, staff)

    for token in ("", "not-a-token", None):
        assert portal.invitation_for(token) is None


def test_a_link_with_a_character_changed_stands_for_no_invitation(staff, borrower):
    _invitation, token = invite(borrower, staff)
    changed = token[:-1] + ("7" if token[-1] != "7" else "8")

    assert portal.invitation_for(changed) is None
    assert portal.invitation_for(token[:-1]) is None


def test_the_link_expires_after_72_hours(clock, staff, borrower):
    invitation, token = invite(borrower, staff)

    clock.shift(timedelta(hours=72) - timedelta(seconds=1))
    assert portal.invitation_for(token) == invitation
    clock.shift(timedelta(seconds=1))
    assert portal.invitation_for(token) is None

    with pytest.raises(TransitionError, match="expired or was already used"):
        accept(token)
    assert borrower_users() == []
    assert fresh(borrower).user is None


# --- accepting it --------------------------------------------------------------------------------------------------
def test_accepting_creates_a_borrower_only_account_with_the_chosen_password_and_language(clock, staff):
    borrower = make_borrower(staff["officer"], email=EMAIL)
    invitation, token = invite(borrower, staff)

    user = accept(token, language="en")

    user = fresh(user)
    assert list(user.groups.values_list("name", flat=True)) == [Role.BORROWER]
    assert user.preferred_language == "en"
    assert user.check_password(NEW_PASSWORD)
    assert (user.username, user.display_name, user.email) == (f"borrower-{borrower.pk}", "李明", EMAIL)
    assert not user.is_staff and not user.is_superuser and user.branch is None
    assert fresh(borrower).user == user
    assert fresh(invitation).used_at == NOW
    assert portal.invitation_for(token) is None
    assert portal.portal_username(MOBILE) == user.username


def test_a_link_works_once(staff, borrower):
    _invitation, token = invite(borrower, staff)
    user = accept(token)

    with pytest.raises(TransitionError, match="expired or was already used"):
        accept(token, password="Another-Strong-77")

    assert borrower_users() == [user]
    assert fresh(user).check_password(NEW_PASSWORD)


WEAK_PASSWORDS = (
    "short-1",  # too short
    "1234567890",  # only digits
    "password123",  # common
    "13800138000",  # the mobile number
    "borrower-x1",  # like the username
)


def test_a_weak_password_is_refused_and_changes_nothing(staff, borrower):
    invitation, token = invite(borrower, staff)

    for password in WEAK_PASSWORDS:
        with pytest.raises(ValidationError):
            accept(token, password=password)

    assert borrower_users() == []
    assert fresh(borrower).user is None
    assert fresh(invitation).used_at is None
    assert portal.invitation_for(token) == invitation  # the link still works
    assert accept(token).check_password(NEW_PASSWORD)


def test_a_language_not_offered_is_refused_and_changes_nothing(staff, borrower):
    invitation, token = invite(borrower, staff)

    with pytest.raises(ValidationError) as excinfo:
        accept(token, language="fr")

    assert "language" in excinfo.value.message_dict
    assert borrower_users() == []
    assert portal.invitation_for(token) == invitation


def test_a_link_is_refused_when_the_borrower_got_an_account_in_the_meantime(staff, borrower, make_user):
    invitation, token = invite(borrower, staff)
    existing = with_account(borrower, make_user)

    with pytest.raises(TransitionError, match="already have an account"):
        accept(token)

    assert borrower_users() == []
    assert fresh(borrower).user == existing
    assert fresh(invitation).used_at is None


def queue_to(address: str, key: str, *, recipient=None) -> OutboxMessage:
    return message_queue(key=key, channel="sms", template="test_message", to_address=address, recipient=recipient)


def test_earlier_messages_to_the_mobile_become_the_new_accounts(staff, borrower):
    earlier = queue_to(MOBILE, "earlier:1")
    elsewhere = queue_to("13700137000", "earlier:2")
    _invitation, token = invite(borrower, staff)

    user = accept(token)

    assert fresh(earlier).recipient == user
    assert {message.recipient for message in messages("portal_invitation")} == {user}
    assert fresh(elsewhere).recipient is None


def test_messages_to_a_shared_mobile_stay_without_a_recipient(staff, borrower):
    other_borrower(staff, mobile=MOBILE)  # e.g. a husband and wife with one phone
    earlier = queue_to(MOBILE, "earlier:1")
    _invitation, token = invite(borrower, staff)

    user = accept(token)

    assert fresh(borrower).user == user
    assert fresh(earlier).recipient is None
    # The invitation was this borrower's own, whoever else shares the phone.
    assert {message.recipient for message in messages("portal_invitation")} == {user}


def test_messages_that_already_have_a_recipient_keep_it(staff, borrower):
    earlier = queue_to(MOBILE, "earlier:1", recipient=staff["officer"])
    _invitation, token = invite(borrower, staff)

    accept(token)

    assert fresh(earlier).recipient == staff["officer"]


# --- signing in by mobile number -----------------------------------------------------------------------------------
def test_the_sign_in_username_is_the_accounts_for_a_known_mobile(borrower, make_user):
    user = with_account(borrower, make_user)

    assert portal.portal_username(MOBILE) == user.username
    assert portal.portal_username(f"  {MOBILE} ") == user.username


def test_the_sign_in_username_is_the_number_itself_otherwise(staff, borrower, make_user):
    assert portal.portal_username(MOBILE) == MOBILE  # a borrower without an account
    assert portal.portal_username(" 13700137000 ") == "13700137000"  # nobody's number

    user = with_account(borrower, make_user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert portal.portal_username(MOBILE) == MOBILE


# --- password reset by code ----------------------------------------------------------------------------------------
@pytest.fixture
def account(staff, make_user):
    """李明 with a portal account (username b1) and an email address."""
    borrower = make_borrower(staff["officer"], email=EMAIL)
    return with_account(borrower, make_user)


def sent_code(identifier: str = MOBILE) -> str:
    portal.reset_code_send(identifier=identifier)
    return messages("portal_reset_code")[-1].context["code"]


def confirm(code: str, identifier: str = MOBILE, password: str = NEW_PASSWORD) -> User:
    return portal.reset_code_confirm(identifier=identifier, code=code, password=password)


def refused(code: str, identifier: str = MOBILE, password: str = NEW_PASSWORD) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        confirm(code, identifier, password)
    return excinfo.value


def password_unchanged(user: User) -> bool:
    return fresh(user).check_password(TEST_PASSWORD) and not fresh(user).check_password(NEW_PASSWORD)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_an_unknown_mobile_or_email_gets_nothing_and_no_error(account):
    for identifier in ("13700137000", "nobody@example.com", "", "   ", MOBILE + "1"):
        portal.reset_code_send(identifier=identifier)

    assert messages("portal_reset_code") == []
    assert PortalResetCode.objects.count() == 0


def test_a_borrower_without_an_account_gets_no_code(staff, borrower):
    portal.reset_code_send(identifier=MOBILE)

    assert messages("portal_reset_code") == []
    assert PortalResetCode.objects.count() == 0


def test_a_disabled_account_gets_no_code(account):
    User.objects.filter(pk=account.pk).update(is_active=False)

    portal.reset_code_send(identifier=MOBILE)

    assert messages("portal_reset_code") == []


def test_the_code_goes_by_sms_to_a_mobile_number(clock, account):
    portal.reset_code_send(identifier=f" {MOBILE} ")

    [message] = messages("portal_reset_code")
    assert (message.channel, message.to_address, message.recipient) == ("sms", MOBILE, account)
    assert message.language == "zh-hans"  # the account's language
    code = message.context["code"]
    assert len(code) == 6 and code.isdigit()
    assert message.context["minutes"] == 15
    assert code in text_of(message)
    [reset] = PortalResetCode.objects.all()
    assert (reset.channel, reset.expires_at, reset.failed_attempts) == ("sms", NOW + timedelta(minutes=15), 0)
    assert code not in reset.code_hash


def test_the_code_goes_by_email_to_an_email_address(account):
    portal.reset_code_send(identifier="Li.Ming@Example.com")

    [message] = messages("portal_reset_code")
    assert (message.channel, message.to_address, message.recipient) == ("email", EMAIL, account)
    assert message.context["code"] in text_of(message)
    assert PortalResetCode.objects.get().channel == "email"


def test_the_right_code_sets_the_new_password_once(account):
    code = sent_code()

    user = confirm(code)

    assert user == account
    assert fresh(account).check_password(NEW_PASSWORD)
    assert not fresh(account).check_password(TEST_PASSWORD)
    assert PortalResetCode.objects.get().used_at is not None
    error = refused(code, password="Yet-Another-Pass-9")
    assert "code" in error.message_dict
    assert fresh(account).check_password(NEW_PASSWORD)


def test_a_code_sent_to_the_email_also_works_with_the_email(account):
    code = sent_code(EMAIL)

    confirm(code, identifier=EMAIL)

    assert fresh(account).check_password(NEW_PASSWORD)


def test_a_wrong_code_is_counted_and_changes_nothing(account):
    code = sent_code()

    error = refused(wrong(code))

    assert error.message_dict == {"code": ["The code is not right or has expired. Ask for a new one."]}
    reset = PortalResetCode.objects.get()
    assert (reset.failed_attempts, reset.used_at) == (1, None)
    assert password_unchanged(account)
    confirm(code)  # the right code still works after a mistake
    assert fresh(account).check_password(NEW_PASSWORD)


def test_four_wrong_codes_leave_the_code_usable(account):
    code = sent_code()
    for _ in range(4):
        refused(wrong(code))

    confirm(code)

    assert fresh(account).check_password(NEW_PASSWORD)


def test_five_wrong_codes_end_the_code_even_if_the_right_one_comes_after(account):
    code = sent_code()
    for _ in range(5):
        refused(wrong(code))

    reset = PortalResetCode.objects.get()
    assert reset.failed_attempts == 5 and reset.used_at is not None
    refused(code)
    assert password_unchanged(account)
    assert PortalResetCode.objects.get().failed_attempts == 5


def test_an_expired_code_is_refused(clock, account):
    code = sent_code()

    clock.shift(timedelta(minutes=15))

    refused(code)
    assert password_unchanged(account)


def test_a_code_is_accepted_until_its_last_second(clock, account):
    code = sent_code()

    clock.shift(timedelta(minutes=15) - timedelta(seconds=1))

    confirm(code)
    assert fresh(account).check_password(NEW_PASSWORD)


def test_a_new_code_ends_the_older_ones(clock, account):
    old = sent_code()
    clock.shift(timedelta(minutes=1))
    new = sent_code()
    if new == old:  # one chance in a million
        pytest.skip("the two random codes happen to be equal")

    refused(old)
    assert password_unchanged(account)
    first, second = PortalResetCode.objects.order_by("created_at")
    assert first.used_at == NOW + timedelta(minutes=1)
    assert second.used_at is None
    confirm(new)
    assert fresh(account).check_password(NEW_PASSWORD)


def test_a_weak_new_password_is_refused_and_the_code_stays_usable(account):
    code = sent_code()

    with pytest.raises(ValidationError):
        confirm(code, password="1234567890")

    reset = PortalResetCode.objects.get()
    assert (reset.failed_attempts, reset.used_at) == (0, None)
    assert password_unchanged(account)
    confirm(code)
    assert fresh(account).check_password(NEW_PASSWORD)


def test_the_code_of_one_borrower_does_not_reset_another(staff, account, make_user):
    other = other_borrower(staff)
    other_user = with_account(other, make_user, username="b2")
    code = sent_code()
    portal.reset_code_send(identifier=other.mobile)

    refused(code, identifier=other.mobile)

    assert password_unchanged(account) and password_unchanged(other_user)


def test_a_code_for_an_unknown_identifier_is_refused_the_same_way(account):
    code = sent_code()

    error = refused(code, identifier="13700137000")

    assert error.message_dict == {"code": ["The code is not right or has expired. Ask for a new one."]}
    assert password_unchanged(account)


# --- contact preferences -------------------------------------------------------------------------------------------
def save_preferences(borrower: Borrower, by: User, **changes) -> Borrower:
    fields = {
        "language": "en",
        "sms_reminders": False,
        "email_reminders": False,
        "contact_from_hour": 13,
        "contact_to_hour": 17,
    } | changes
    return portal.contact_preferences_save(borrower=borrower, by=by, **fields)


def preferences(borrower: Borrower) -> tuple:
    row = fresh(borrower)
    return (row.sms_reminders, row.email_reminders, row.contact_from_hour, row.contact_to_hour)


def test_the_borrower_saves_their_contact_preferences_and_language(borrower, make_user):
    user = with_account(borrower, make_user)

    save_preferences(borrower, user, email_reminders=False, sms_reminders=False)

    assert preferences(borrower) == (False, False, 13, 17)
    assert fresh(user).preferred_language == "en"


def test_email_reminders_may_be_chosen_when_there_is_an_email_address(staff, make_user):
    borrower = make_borrower(staff["officer"], email=EMAIL)
    user = with_account(borrower, make_user, language="en")

    save_preferences(borrower, user, language="zh-hans", sms_reminders=True, email_reminders=True, contact_to_hour=24)

    assert preferences(borrower) == (True, True, 13, 24)
    assert fresh(user).preferred_language == "zh-hans"


def test_only_the_borrower_saves_their_preferences(staff, borrower, make_user):
    with_account(borrower, make_user)
    other_user = with_account(other_borrower(staff), make_user, username="b2")

    for user in (other_user, staff["officer"], staff["manager"]):
        with pytest.raises(PermissionDenied):
            save_preferences(borrower, user)

    assert preferences(borrower) == (True, True, 9, 18)
    assert fresh(other_user).preferred_language == "zh-hans"


def test_a_contact_window_that_is_not_a_window_is_refused(borrower, make_user):
    user = with_account(borrower, make_user)

    # reversed, empty, past midnight, negative
    for from_hour, to_hour in ((18, 9), (12, 12), (9, 25), (-1, 10)):
        with pytest.raises(ValidationError) as excinfo:
            save_preferences(borrower, user, contact_from_hour=from_hour, contact_to_hour=to_hour)
        assert list(excinfo.value.message_dict) == ["contact_to_hour"], (from_hour, to_hour)

    assert preferences(borrower) == (True, True, 9, 18)
    assert fresh(user).preferred_language == "zh-hans"


def test_email_reminders_without_an_email_address_are_refused(borrower, make_user):
    user = with_account(borrower, make_user)

    with pytest.raises(ValidationError) as excinfo:
        save_preferences(borrower, user, email_reminders=True)

    assert excinfo.value.message_dict == {
        "email_reminders": ["We have no email address for you; ask your loan officer to add one."]
    }
    assert preferences(borrower) == (True, True, 9, 18)
    assert fresh(user).preferred_language == "zh-hans"


def test_every_mistake_is_reported_at_once(borrower, make_user):
    user = with_account(borrower, make_user)

    with pytest.raises(ValidationError) as excinfo:
        save_preferences(borrower, user, language="de", email_reminders=True, contact_from_hour=20)

    assert set(excinfo.value.message_dict) == {"language", "contact_to_hour", "email_reminders"}
    assert preferences(borrower) == (True, True, 9, 18)


# --- a missing material sent by the borrower -----------------------------------------------------------------------
@pytest.fixture
def application(staff, product, borrower):
    return make_application(staff["officer"], borrower=borrower)


@pytest.fixture
def owner(borrower, make_user):
    return with_account(borrower, make_user)


def statement(application: Application) -> Material:
    return Material.objects.select_related("application").get(
        application=application, requirement__code="bank_statement"
    )


def set_status(application: Application, status: str) -> None:
    Application.objects.filter(pk=application.pk).update(status=status)


def upload(material: Material, by: User, file=None) -> Material:
    return portal.material_upload_by_borrower(material=material, by=by, upload=file or pdf("流水.pdf"))


def test_the_borrower_sends_a_missing_material(application, owner):
    stored = upload(statement(application), owner)

    material = statement(application)
    assert stored == material
    assert material.status == "uploaded"
    assert (material.uploaded_by, material.original_name, material.size) == (owner, "流水.pdf", len(PDF_BYTES))
    assert material.file.name.startswith(f"materials/{application.pk}/")
    assert len(stored_files()) == 1
    event = ApplicationEvent.objects.filter(application=application, kind="material").latest("pk")
    assert (event.actor, event.data["status"]) == (owner, "uploaded")
    assert "Missing material: Bank statements, 6 months" not in services.submission_blockers(application)


def test_a_material_rejected_in_review_is_sent_again_by_the_borrower(staff, product, borrower, owner):
    application = submitted(staff["officer"], borrower=borrower)
    services.material_check(
        material=statement(application), by=staff["reviewer"], accepted=False, reason="缺少最近一个月"
    )
    assert statement(application).status == "rejected"

    upload(statement(application), owner, SimpleUploadedFile("scan.png", PNG_BYTES, "image/png"))

    material = statement(application)
    assert (material.status, material.rejection_reason, material.reviewed_by) == ("uploaded", "", None)
    assert material.content_type == "image/png"


@pytest.mark.parametrize("status", ["uploaded", "accepted"])
def test_a_material_already_received_is_not_replaced_by_the_borrower(application, owner, status):
    Material.objects.filter(pk=statement(application).pk).update(status=status)

    with pytest.raises(TransitionError, match="already have this document"):
        upload(statement(application), owner)

    assert statement(application).status == status
    assert stored_files() == []


def test_the_borrower_may_send_while_the_application_is_open(application, owner):
    for status in ("draft", "submitted", "initial_review", "secondary_review", "returned"):
        set_status(application, status)
        Material.objects.filter(pk=statement(application).pk).update(status="missing")

        upload(statement(application), owner)

        assert statement(application).status == "uploaded", status


def test_the_borrower_may_not_send_once_the_application_is_closed(application, owner):
    for status in ("rejected", "withdrawn", "approved", "expired", "contracted", "disbursed"):
        set_status(application, status)

        with pytest.raises(TransitionError, match="not possible while the application is"):
            upload(statement(application), owner)

    assert statement(application).status == "missing"
    assert stored_files() == []


def test_an_application_withdrawn_through_the_service_takes_no_more_materials(staff, application, owner):
    services.application_withdraw(application=application, by=staff["officer"], reason="借款人改变主意")

    with pytest.raises(TransitionError):
        upload(statement(application), owner)

    assert statement(application).status == "missing"


def test_only_the_borrower_of_the_application_may_send(staff, application, owner, make_user):
    other_user = with_account(other_borrower(staff), make_user, username="b2")

    for user in (other_user, staff["officer"]):
        with pytest.raises(PermissionDenied):
            upload(statement(application), user)

    assert statement(application).status == "missing"
    assert stored_files() == []


def bad_files() -> list[tuple[SimpleUploadedFile, str]]:
    return [
        (SimpleUploadedFile("photo.pdf", PNG_BYTES, "application/pdf"), "type_mismatch"),
        (SimpleUploadedFile("x.pdf", EXE_BYTES, "application/pdf"), "wrong_type"),
        (SimpleUploadedFile("empty.pdf", b"", "application/pdf"), "empty"),
        (SimpleUploadedFile("big.pdf", PDF_BYTES + b"\x00" * (11 * 1024 * 1024), "application/pdf"), "too_large"),
    ]


def test_a_bad_file_from_the_borrower_is_refused_like_a_staff_upload(application, owner):
    events_before = ApplicationEvent.objects.filter(application=application).count()

    for file, code in bad_files():
        with pytest.raises(ValidationError) as excinfo:
            upload(statement(application), owner, file)
        assert excinfo.value.code == code, file.name

    material = statement(application)
    assert (material.status, material.file.name, material.size) == ("missing", "", 0)
    assert stored_files() == []
    assert ApplicationEvent.objects.filter(application=application).count() == events_before


# --- the risk disclosure acknowledged online -----------------------------------------------------------------------
def request(application: Application, staff) -> Application:
    return portal.disclosure_request(application=application, by=staff["officer"])


def test_the_officer_asks_the_borrower_to_acknowledge_online(clock, staff, application, owner):
    assert not portal.disclosure_pending(application)

    request(application, staff)

    assert fresh(application).disclosure_requested_at == NOW
    assert portal.disclosure_pending(fresh(application))
    event = ApplicationEvent.objects.filter(application=application, kind="disclosure").get()
    assert (event.actor, event.data) == (staff["officer"], {"requested": 1})
    [sms] = messages("portal_disclosure_requested")
    assert (sms.channel, sms.to_address, sms.recipient) == ("sms", MOBILE, owner)
    link = f"{settings.SITE_URL.rstrip('/')}{reverse('portal:disclosure', args=[application.number])}"
    assert sms.context["link"] == link
    assert sms.context["number"] == application.number
    assert link in text_of(sms)


def test_the_request_goes_by_sms_only_even_with_an_email_address(staff, product, make_user):
    borrower = make_borrower(staff["officer"], email=EMAIL)
    with_account(borrower, make_user)
    application = make_application(staff["officer"], borrower=borrower)

    request(application, staff)

    assert [message.channel for message in messages("portal_disclosure_requested")] == ["sms"]


def test_only_the_assigned_officer_asks(staff, application, owner):
    for who in ("officer2", "reviewer", "manager", "other_officer"):
        with pytest.raises(PermissionDenied):
            portal.disclosure_request(application=application, by=staff[who])

    assert fresh(application).disclosure_requested_at is None
    assert messages("portal_disclosure_requested") == []


def test_the_borrower_needs_a_portal_account_first(staff, application):
    with pytest.raises(TransitionError, match="no portal account"):
        request(application, staff)

    assert fresh(application).disclosure_requested_at is None
    assert messages("portal_disclosure_requested") == []


def test_the_request_is_made_only_in_draft_or_returned(staff, application, owner):
    for status in ("submitted", "initial_review", "secondary_review", "approved", "withdrawn"):
        set_status(application, status)

        with pytest.raises(TransitionError, match="not possible while the application is"):
            request(fresh(application), staff)

    assert fresh(application).disclosure_requested_at is None


def test_the_request_is_made_for_a_returned_application_after_the_disclosure_changed(staff, product, borrower, owner):
    application = submitted(staff["officer"], borrower=borrower)
    services.application_start_review(application=application, by=staff["reviewer"])
    services.application_review_initial(
        application=fresh(application), by=staff["reviewer"], decision="return", comment="请补充"
    )
    application = fresh(application)
    with pytest.raises(TransitionError, match="already acknowledged"):  # in person, before the first submission
        request(application, staff)

    RiskDisclosure.objects.create(product=product, version=2, text_zh="新版风险揭示。", text_en="New disclosure.")
    request(application, staff)

    assert portal.disclosure_pending(fresh(application))
    acknowledgement = portal.disclosure_acknowledge_online(application=fresh(application), by=owner)
    assert (acknowledgement.disclosure.version, acknowledgement.method) == (2, "portal")
    assert services.submission_blockers(fresh(application)) == []


def test_no_request_without_a_disclosure_for_the_product(staff, borrower, owner):
    product = make_product("NODISCLOSURE")
    RiskDisclosure.objects.filter(product=product).delete()
    application = make_application(staff["officer"], borrower=borrower, product=product)

    with pytest.raises(TransitionError, match="no risk disclosure"):
        request(application, staff)


def test_the_borrower_acknowledges_online_once(clock, staff, application, owner):
    request(application, staff)
    application = fresh(application)

    acknowledgement = portal.disclosure_acknowledge_online(application=application, by=owner)

    assert acknowledgement.method == DisclosureAcknowledgement.Method.PORTAL
    assert acknowledgement.disclosure.version == 1
    assert acknowledgement.witnessed_by is None
    assert not portal.disclosure_pending(fresh(application))
    assert "The borrower has not acknowledged the current risk disclosure." not in services.submission_blockers(
        fresh(application)
    )
    online_events = ApplicationEvent.objects.filter(application=application, kind="disclosure", data__online=True)
    assert [(event.actor, event.data) for event in online_events] == [(owner, {"version": 1, "online": True})]

    again = portal.disclosure_acknowledge_online(application=fresh(application), by=owner)

    assert again == acknowledgement
    assert DisclosureAcknowledgement.objects.filter(application=application).count() == 1
    assert online_events.count() == 1
    with pytest.raises(TransitionError, match="already acknowledged"):
        request(fresh(application), staff)


def test_the_borrower_cannot_acknowledge_before_being_asked(application, owner):
    with pytest.raises(TransitionError, match="has not asked you"):
        portal.disclosure_acknowledge_online(application=application, by=owner)

    assert DisclosureAcknowledgement.objects.filter(application=application).count() == 0


def test_another_borrower_cannot_acknowledge(staff, application, owner, make_user):
    request(application, staff)
    other_user = with_account(other_borrower(staff), make_user, username="b2")

    for user in (other_user, staff["officer"]):
        with pytest.raises(PermissionDenied):
            portal.disclosure_acknowledge_online(application=fresh(application), by=user)

    assert DisclosureAcknowledgement.objects.filter(application=application).count() == 0
    assert portal.disclosure_pending(fresh(application))


def test_no_acknowledgement_once_the_application_was_withdrawn(staff, application, owner):
    request(application, staff)
    services.application_withdraw(application=fresh(application), by=staff["officer"], reason="借款人改变主意")

    with pytest.raises(TransitionError):
        portal.disclosure_acknowledge_online(application=fresh(application), by=owner)

    assert DisclosureAcknowledgement.objects.filter(application=application).count() == 0
    assert not portal.disclosure_pending(fresh(application))
