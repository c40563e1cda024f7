"""The main menu shows each person only the pages of their roles; several roles land on the most senior one's home."""

import re

import pytest

from accounts.roles import Role

pytestmark = pytest.mark.django_db

# The menu entries each role sees, in menu order, written out rather than read from accounts.navigation.MENU.
MENU_LINKS = {
    Role.OFFICER: ["/applications/", "/loans/", "/loans/overdue/", "/followups/today/", "/followups/inquiries/"],
    Role.REVIEWER: ["/applications/review/"],
    Role.APPROVER: ["/applications/approvals/", "/loans/confirmations/"],
    Role.RISK_OFFICER: [
        "/followups/warnings/",
        "/followups/reviews/",
        "/loans/",
        "/loans/overdue/",
        "/loans/restructurings/",
        "/followups/inquiries/",
        "/dashboard/exports/",
    ],
    Role.MANAGER: [
        "/dashboard/",
        "/loans/",
        "/loans/overdue/",
        "/loans/confirmations/",
        "/loans/classification-approvals/",
        "/loans/restructurings/",
        "/followups/team/",
        "/followups/inquiries/",
    ],
    Role.ADMIN: ["/notifications/outbox/", "/admin/"],
    Role.BORROWER: ["/portal/", "/portal/questions/", "/portal/messages/", "/portal/settings/"],
}
NAV_LINK = re.compile(r'<a class="nav-link(?P<active> active)?"\s+href="(?P<href>[^"]+)"')


def menu(content: str) -> list[str]:
    return [match["href"] for match in NAV_LINK.finditer(content)]


def active_menu(content: str) -> list[str]:
    return [match["href"] for match in NAV_LINK.finditer(content) if match["active"]]


def test_it_shows_an_officer_the_worklist_and_not_the_dashboard(client, role_users):
    client.force_login(role_users[Role.OFFICER])

    content = client.get("/applications/").content.decode()

    assert 'href="/applications/"' in content
    assert 'href="/dashboard/"' not in content
    assert 'href="/notifications/outbox/"' not in content


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_it_shows_each_role_only_its_own_menu(client, role_users, role):
    client.force_login(role_users[role])
    home = client.get("/")["Location"]

    content = client.get(home).content.decode()

    assert menu(content) == MENU_LINKS[role]
    assert active_menu(content) == [home]


def test_it_shows_no_menu_to_an_anonymous_visitor(client):
    content = client.get("/login/").content.decode()

    assert menu(content) == []


def test_it_shows_a_person_with_two_roles_both_menus_in_menu_order(client, make_user, branches):
    manager_and_approver = make_user("two_hats", Role.MANAGER, Role.APPROVER, branch=branches["BJ"])
    client.force_login(manager_and_approver)

    content = client.get("/dashboard/").content.decode()

    assert menu(content) == [
        "/applications/approvals/",
        "/loans/confirmations/",
        "/dashboard/",
        "/loans/",
        "/loans/overdue/",
        "/loans/classification-approvals/",
        "/loans/restructurings/",
        "/followups/team/",
        "/followups/inquiries/",
    ]


@pytest.mark.parametrize(
    ("roles", "home"),
    [
        ((Role.MANAGER, Role.APPROVER), "/dashboard/"),
        ((Role.APPROVER, Role.MANAGER), "/dashboard/"),
        ((Role.OFFICER, Role.REVIEWER), "/applications/review/"),
        ((Role.RISK_OFFICER, Role.APPROVER), "/followups/warnings/"),
        ((Role.OFFICER, Role.ADMIN), "/notifications/outbox/"),
        ((Role.BORROWER, Role.OFFICER), "/applications/"),
    ],
    ids=lambda value: "+".join(value) if isinstance(value, tuple) else value,
)
def test_it_lands_a_person_with_several_roles_on_the_most_senior_home(client, make_user, branches, roles, home):
    client.force_login(make_user("several_hats", *roles, branch=branches["BJ"]))

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == home
    assert client.get(home).status_code == 200


def test_it_hides_the_django_admin_link_from_an_administrator_without_staff_access(client, make_user, branches):
    administrator = make_user("admin_without_staff", Role.ADMIN, branch=branches["BJ"], is_staff=False)
    client.force_login(administrator)

    content = client.get("/notifications/outbox/").content.decode()

    assert menu(content) == ["/notifications/outbox/"]
