"""Staff of two branches for the follow-up tests, a product, a disbursed loan with a planned follow-up, the standard
checklists; English messages, uploads in a temporary folder and messages in memory at any hour."""

from decimal import Decimal

import pytest
from django.utils import translation

from accounts.roles import Role
from core.schedules import ScheduleMethod
from tests.applications.factories import make_product

from .factories import application_in_initial_review, disbursed_loan, make_question_sets, planned_followup


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _local_side_effects(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_QUIET_START_HOUR = settings.NOTIFY_QUIET_END_HOUR = 0


@pytest.fixture
def product(db):
    return make_product(methods=list(ScheduleMethod.values), max_dti=None)


@pytest.fixture
def staff(branches, make_user):
    """Beijing: two officers, a reviewer, an approver, a manager, two risk officers; Shanghai: an officer, a risk
    officer and a manager; head office: a risk officer."""
    bj, sh, hq = branches["BJ"], branches["SH"], branches["HQ"]
    return {
        "officer": make_user("fu_officer", Role.OFFICER, branch=bj, display_name="张伟"),
        "officer2": make_user("fu_officer2", Role.OFFICER, branch=bj),
        "reviewer": make_user("fu_reviewer", Role.REVIEWER, branch=bj),
        "approver": make_user("fu_approver", Role.APPROVER, branch=bj, approval_limit=Decimal("500000.00")),
        "manager": make_user("fu_manager", Role.MANAGER, branch=bj),
        "risk": make_user("fu_risk", Role.RISK_OFFICER, branch=bj),
        "risk2": make_user("fu_risk2", Role.RISK_OFFICER, branch=bj),
        "other_officer": make_user("fu_officer_sh", Role.OFFICER, branch=sh),
        "other_risk": make_user("fu_risk_sh", Role.RISK_OFFICER, branch=sh),
        "other_manager": make_user("fu_manager_sh", Role.MANAGER, branch=sh),
        "hq_risk": make_user("fu_risk_hq", Role.RISK_OFFICER, branch=hq),
    }


@pytest.fixture
def loan(staff, product):
    """¥120,000.00 over 12 months to 李明, disbursed 10 January 2026; guarantor 王强, collateral custodian 赵敏."""
    return disbursed_loan(staff)


@pytest.fixture
def followup(loan):
    """The loan's first follow-up, planned for 9 February 2026 (a Monday), assigned to the loan's officer."""
    return planned_followup(loan)


@pytest.fixture
def question_sets(db):
    """The standard checklist, active for every kind."""
    return make_question_sets()


@pytest.fixture
def application_in_review(staff, product):
    return application_in_initial_review(staff)
