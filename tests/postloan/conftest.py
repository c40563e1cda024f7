"""Staff of two branches for the post-loan tests, a product offering every repayment method, English messages."""

from decimal import Decimal

import pytest
from django.utils import translation

from accounts.roles import Role
from core.schedules import ScheduleMethod
from tests.applications.factories import make_product


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _local_side_effects(settings, tmp_path):
    # Uploads of the application factories go to a temporary folder; messages stay in memory, at any hour.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_QUIET_START_HOUR = settings.NOTIFY_QUIET_END_HOUR = 0


@pytest.fixture
def product(db):
    # No debt-to-income cap: a bullet loan's single payment would otherwise be a hard stop at approval.
    return make_product(methods=list(ScheduleMethod.values), max_dti=None)


@pytest.fixture
def staff(branches, make_user):
    bj, sh = branches["BJ"], branches["SH"]
    return {
        "officer": make_user("pl_officer", Role.OFFICER, branch=bj),
        "officer2": make_user("pl_officer2", Role.OFFICER, branch=bj),
        "reviewer": make_user("pl_reviewer", Role.REVIEWER, branch=bj),
        "approver": make_user("pl_approver", Role.APPROVER, branch=bj, approval_limit=Decimal("500000.00")),
        "manager": make_user("pl_manager", Role.MANAGER, branch=bj),
        "risk": make_user("pl_risk", Role.RISK_OFFICER, branch=bj),
        "other_officer": make_user("pl_officer_sh", Role.OFFICER, branch=sh),
        "other_manager": make_user("pl_manager_sh", Role.MANAGER, branch=sh),
        "hq_manager": make_user("pl_manager_hq", Role.MANAGER, branch=branches["HQ"]),
    }
