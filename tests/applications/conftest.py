"""Staff of two branches for the application tests: BJ's officer, reviewer, approver, manager, and SH's officer."""

from decimal import Decimal

import pytest

from accounts.roles import Role

from .factories import make_product


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def product(db):
    return make_product()


@pytest.fixture
def staff(branches, make_user):
    bj, sh = branches["BJ"], branches["SH"]
    return {
        "officer": make_user("officer_a", Role.OFFICER, branch=bj, email="officer_a@example.com"),
        "officer2": make_user("officer_b", Role.OFFICER, branch=bj, email="officer_b@example.com"),
        "reviewer": make_user("reviewer_a", Role.REVIEWER, branch=bj),
        "reviewer2": make_user("reviewer_b", Role.REVIEWER, branch=bj),
        "approver": make_user("approver_a", Role.APPROVER, branch=bj, approval_limit=Decimal("200000.00")),
        "approver2": make_user("approver_b", Role.APPROVER, branch=bj, approval_limit=Decimal("200000.00")),
        "manager": make_user("manager_a", Role.MANAGER, branch=bj),
        "risk": make_user("risk_a", Role.RISK_OFFICER, branch=bj),
        "other_officer": make_user("officer_sh", Role.OFFICER, branch=sh),
        "other_reviewer": make_user("reviewer_sh", Role.REVIEWER, branch=sh),
        "hq_manager": make_user("manager_hq", Role.MANAGER, branch=branches["HQ"]),
    }
