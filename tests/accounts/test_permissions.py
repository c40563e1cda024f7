"""accounts.permissions: role checks (403), branch scope (404) and maker-checker, without going through a view."""

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import translation

from accounts.models import User
from accounts.permissions import can, in_scope, require, require_checker, roles_of, scope
from accounts.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(branches, make_user) -> dict[str, User]:
    """One officer in each branch, and one staff member whose branch has not been set yet."""
    return {
        "HQ": make_user("officer_hq", Role.OFFICER, branch=branches["HQ"]),
        "BJ": make_user("officer_bj", Role.OFFICER, branch=branches["BJ"]),
        "SH": make_user("officer_sh", Role.OFFICER, branch=branches["SH"]),
        "none": make_user("officer_nowhere", Role.OFFICER),
    }


# --- can --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "role", "allowed"),
    [
        ("application.create", Role.OFFICER, True),
        ("application.create", Role.REVIEWER, False),
        ("review.initial", Role.REVIEWER, True),
        ("review.initial", Role.OFFICER, False),
        ("review.secondary", Role.APPROVER, True),
        ("review.secondary", Role.MANAGER, True),
        ("review.secondary", Role.REVIEWER, False),
        ("warning.view", Role.RISK_OFFICER, True),
        ("warning.view", Role.OFFICER, False),
        ("dashboard.view", Role.MANAGER, True),
        ("dashboard.view", Role.ADMIN, False),
        ("outbox.view", Role.ADMIN, True),
        ("outbox.view", Role.MANAGER, False),
        ("identity.reveal", Role.RISK_OFFICER, True),
        ("identity.reveal", Role.OFFICER, False),
        ("identity.reveal", Role.BORROWER, False),
        ("portal.use", Role.BORROWER, True),
        ("portal.use", Role.OFFICER, False),
    ],
)
def test_it_allows_an_action_only_to_its_roles(role_users, action, role, allowed):
    assert can(role_users[role], action) is allowed


def test_it_allows_an_action_through_any_of_several_roles(make_user, branches):
    officer_and_approver = make_user("two_hats", Role.OFFICER, Role.APPROVER, branch=branches["BJ"])

    assert can(officer_and_approver, "application.create")
    assert can(officer_and_approver, "review.secondary")
    assert not can(officer_and_approver, "dashboard.view")


def test_it_checks_the_branch_when_given_an_object(role_users, staff):
    approver_in_bj = role_users[Role.APPROVER]

    assert can(approver_in_bj, "review.secondary", staff["BJ"])
    assert not can(approver_in_bj, "review.secondary", staff["SH"])


def test_it_raises_key_error_for_an_unknown_action(role_users):
    with pytest.raises(KeyError, match=r"review\.tertiary"):
        can(role_users[Role.MANAGER], "review.tertiary")


def test_it_gives_an_inactive_user_no_roles(make_user, branches):
    manager = make_user("left_the_bank", Role.MANAGER, branch=branches["BJ"], is_active=False)

    assert roles_of(manager) == frozenset()
    assert not can(manager, "dashboard.view")


def test_it_ignores_groups_that_are_not_roles(make_user, branches):
    auditor = make_user("auditor", "external_auditors", branch=branches["BJ"])

    assert roles_of(auditor) == frozenset()


def test_it_requires_the_role_with_a_reason_the_403_page_shows(role_users):
    require(role_users[Role.MANAGER], "dashboard.view")

    with translation.override("en"), pytest.raises(PermissionDenied, match=r"^Your role does not allow this\.$"):
        require(role_users[Role.OFFICER], "dashboard.view")


# --- scope and in_scope -----------------------------------------------------------------------------------------------


def usernames(queryset) -> set[str]:
    return set(queryset.values_list("username", flat=True))


def test_it_shows_head_office_staff_every_branch(staff):
    visible = scope(User.objects.all(), staff["HQ"], branch_field="branch")

    assert usernames(visible) == usernames(User.objects.all())
    assert {"officer_bj", "officer_sh"} <= usernames(visible)


def test_it_shows_branch_staff_only_their_branch(staff):
    visible = scope(User.objects.all(), staff["BJ"], branch_field="branch")

    assert usernames(visible) == {"officer_bj"}


def test_it_shows_staff_without_a_branch_nothing(staff):
    visible = scope(User.objects.all(), staff["none"], branch_field="branch")

    assert usernames(visible) == set()


def test_it_puts_objects_of_the_users_own_branch_in_scope(staff):
    assert in_scope(staff["BJ"], staff["BJ"])
    assert not in_scope(staff["BJ"], staff["SH"])
    assert not in_scope(staff["BJ"], staff["HQ"])


def test_it_puts_every_object_in_scope_for_head_office(staff):
    assert in_scope(staff["HQ"], staff["SH"])
    assert in_scope(staff["HQ"], staff["none"])


def test_it_does_not_match_a_missing_branch_with_a_missing_branch(staff):
    # A branchless user must not see branchless objects: None == None is not "the same branch".
    assert not in_scope(staff["none"], staff["none"])
    assert not in_scope(staff["BJ"], staff["none"])


# --- maker-checker ----------------------------------------------------------------------------------------------------


def test_it_refuses_the_maker_as_checker(role_users):
    reviewer = role_users[Role.REVIEWER]

    with pytest.raises(PermissionDenied):
        require_checker(reviewer, reviewer.pk)


def test_it_accepts_another_colleague_as_checker(role_users):
    require_checker(role_users[Role.APPROVER], role_users[Role.REVIEWER].pk)


def test_it_accepts_any_checker_when_nobody_prepared_it(role_users):
    require_checker(role_users[Role.APPROVER], None)
