"""A small world for the portal: 李明 (the owner) with a disbursed loan, an application being prepared (missing
materials, disclosure requested) and a rejected one with an internal note; an answered inquiry, an open questionnaire
and a completed follow-up to rate; and 王芳, another borrower with her own application. Both have portal accounts."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.utils import translation

from accounts.roles import Role
from applications import portal as portal_services
from applications.models import Application, Borrower
from core.dates import SHANGHAI
from core.schedules import ScheduleMethod
from followups import services as followup_services
from followups.models import FollowUp, FollowUpKind
from followups.services import inquiries as inquiry_services
from tests.applications.factories import RESIDENT_IDS, make_application, make_borrower, make_product
from tests.followups.factories import disbursed_loan, make_question_sets, planned_followup, record

PASSWORD = "Portal-Pass-2026"
INTERNAL_NOTE = "INTERNAL-ONLY: applicant seemed evasive about side business"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _local_side_effects(settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_QUIET_START_HOUR = settings.NOTIFY_QUIET_END_HOUR = 0


@pytest.fixture
def product(db):
    return make_product(methods=list(ScheduleMethod.values), max_dti=None)


@pytest.fixture
def staff(branches, make_user):
    bj, sh = branches["BJ"], branches["SH"]
    return {
        "officer": make_user("pt_officer", Role.OFFICER, branch=bj, display_name="张伟", phone="13800138000"),
        "reviewer": make_user("pt_reviewer", Role.REVIEWER, branch=bj),
        "approver": make_user(
            "pt_approver", Role.APPROVER, branch=bj, approval_limit=Decimal("500000.00"), email="approver@example.com"
        ),
        "manager": make_user("pt_manager", Role.MANAGER, branch=bj, email="manager@example.com"),
        "risk": make_user("pt_risk", Role.RISK_OFFICER, branch=bj),
        "other_officer": make_user("pt_officer_sh", Role.OFFICER, branch=sh),
    }


def give_portal_account(borrower: Borrower, officer, language: str = "en"):
    _invitation, token = portal_services.borrower_invite(borrower=borrower, by=officer)
    user = portal_services.invitation_accept(token=token, password=PASSWORD, language=language)
    borrower.refresh_from_db()
    return user


@pytest.fixture
def world(staff, product):
    officer = staff["officer"]
    loan = disbursed_loan(staff)
    owner = loan.borrower
    owner_user = give_portal_account(owner, officer)
    with time_machine.travel(date(2026, 3, 2).isoformat() + "T10:00:00+08:00", tick=False):
        preparing = make_application(officer, borrower=owner, amount="50000.00")
        portal_services.disclosure_request(application=preparing, by=officer)
        rejected = make_application(officer, borrower=owner, amount="30000.00")
        Application.objects.filter(pk=rejected.pk).update(
            status="rejected", rejection_codes=["high_debt"], rejection_text=INTERNAL_NOTE
        )
        make_question_sets()
        questionnaire_followup = planned_followup(loan)
        questionnaire = followup_services.questionnaire_send(followup=questionnaire_followup, by=officer)
        rated = planned_followup(loan, kind=FollowUpKind.SECOND, due_on=date(2026, 3, 2))
        followup_services.followup_complete(followup=rated, by=officer, **record())
        inquiry = inquiry_services.inquiry_create(
            borrower=owner, by=owner_user, category="repayment", question="When is my next payment?", loan=loan
        )
        inquiry_services.inquiry_reply(inquiry=inquiry, by=officer, text="On 10 April.")
    other = make_borrower(officer, number=RESIDENT_IDS[2], name="王芳", mobile="13911112222")
    other_user = give_portal_account(other, officer)
    other_application = make_application(officer, borrower=other, amount="20000.00")
    return {
        "loan": loan,
        "owner": owner,
        "owner_user": owner_user,
        "preparing": preparing,
        "rejected": Application.objects.get(pk=rejected.pk),
        "material": preparing.materials.order_by("pk").first(),
        "questionnaire": questionnaire,
        "rated_followup": FollowUp.objects.get(pk=rated.pk),
        "inquiry": inquiry,
        "other": other,
        "other_user": other_user,
        "other_application": other_application,
        "shanghai": SHANGHAI,
    }


@pytest.fixture
def account(staff):
    """A borrower with a portal account and nothing else: cheap, for the sign-in tests."""
    borrower = make_borrower(staff["officer"], number=RESIDENT_IDS[2], name="陈静", mobile="13566667777")
    return {"owner": borrower, "owner_user": give_portal_account(borrower, staff["officer"])}


@pytest.fixture(autouse=True)
def _english_pages(client, settings):
    """Anonymous pages follow the language cookie (signed-in borrowers their own choice): English, like the asserts."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
