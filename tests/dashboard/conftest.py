"""Shared fixtures for the dashboard tests: staff of Beijing, Shanghai and head office, a product offering every
repayment method, a Scope builder; English labels, uploads in a temporary folder, messages in memory at any hour."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from accounts.roles import Role
from core.schedules import ScheduleMethod
from dashboard.scope import Scope
from tests.applications.factories import make_product


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
    """Every repayment method, no debt-to-income cap; review targets 24 h (initial) and 48 h (secondary)."""
    return make_product(methods=list(ScheduleMethod.values), max_dti=None)


@pytest.fixture
def staff(branches, make_user):
    """Beijing (BJ): two officers, two reviewers, two approvers, a manager, a risk officer; Shanghai (SH): an
    officer, a reviewer, an approver, a manager, a risk officer; head office (HQ): a manager and an officer.
    Approvers may approve up to ¥500,000.00."""
    bj, sh, hq = branches["BJ"], branches["SH"], branches["HQ"]
    limit = Decimal("500000.00")
    return {
        "officer": make_user("db_officer", Role.OFFICER, branch=bj, display_name="王芳"),
        "officer2": make_user("db_officer2", Role.OFFICER, branch=bj, display_name="刘洋"),
        "reviewer": make_user("db_reviewer", Role.REVIEWER, branch=bj, display_name="陈静"),
        "reviewer2": make_user("db_reviewer2", Role.REVIEWER, branch=bj, display_name="杨磊"),
        "approver": make_user("db_approver", Role.APPROVER, branch=bj, approval_limit=limit, display_name="赵强"),
        "approver2": make_user("db_approver2", Role.APPROVER, branch=bj, approval_limit=limit, display_name="黄敏"),
        "manager": make_user("db_manager", Role.MANAGER, branch=bj, display_name="周杰"),
        "risk": make_user("db_risk", Role.RISK_OFFICER, branch=bj),
        "other_officer": make_user("db_officer_sh", Role.OFFICER, branch=sh, display_name="吴刚"),
        "other_reviewer": make_user("db_reviewer_sh", Role.REVIEWER, branch=sh, display_name="徐丽"),
        "other_approver": make_user("db_approver_sh", Role.APPROVER, branch=sh, approval_limit=limit),
        "other_manager": make_user("db_manager_sh", Role.MANAGER, branch=sh, display_name="孙涛"),
        "other_risk": make_user("db_risk_sh", Role.RISK_OFFICER, branch=sh),
        "hq_manager": make_user("db_manager_hq", Role.MANAGER, branch=hq, display_name="马超"),
        "hq_officer": make_user("db_officer_hq", Role.OFFICER, branch=hq),
    }


@pytest.fixture
def sh_staff(staff):
    """Shanghai's people under the keys the application and post-loan factories expect (officer, reviewer,
    approver, manager), e.g. `tests.postloan.factories.disbursed_loan(sh_staff)`."""
    return {
        "officer": staff["other_officer"],
        "reviewer": staff["other_reviewer"],
        "approver": staff["other_approver"],
        "manager": staff["other_manager"],
        "risk": staff["other_risk"],
    }


@pytest.fixture
def make_scope():
    """Build a Scope: make_scope(user, date(2026, 1, 1), date(2026, 1, 31), branch_id=…, product_id=…, …)."""

    def make(user, date_from: date, date_to: date, **filters) -> Scope:
        return Scope(user=user, date_from=date_from, date_to=date_to, **filters)

    return make
