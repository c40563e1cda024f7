"""The access matrix: every URL that exists so far, for every role, a user without a role and an anonymous visitor."""

import pytest

from accounts.roles import Role

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
NO_ROLE = "no_role"
EVERYONE = (ANONYMOUS, *(role.value for role in Role), NO_ROLE)
SIGNED_IN = tuple(who for who in EVERYONE if who != ANONYMOUS)

# Where each role lands after signing in, written out here rather than read from accounts.navigation.ROLE_HOME, so a
# change there has to be a deliberate change here too.
HOME = {
    Role.OFFICER: "/applications/",
    Role.REVIEWER: "/applications/review/",
    Role.APPROVER: "/applications/approvals/",
    Role.RISK_OFFICER: "/followups/warnings/",
    Role.MANAGER: "/dashboard/",
    Role.ADMIN: "/notifications/outbox/",
    Role.BORROWER: "/portal/",
}


def to_sign_in(url: str) -> tuple[int, str]:
    return 302, f"/login/?next={url}"


def staff_page(url: str, *allowed: str) -> dict[str, tuple[int, str | None]]:
    """A page behind accounts.permissions.action_required: sign in first, then 200 for the roles of the action."""
    return {
        who: to_sign_in(url) if who == ANONYMOUS else (200, None) if who in allowed else (403, None) for who in EVERYONE
    }


def signed_in_page(url: str) -> dict[str, tuple[int, str | None]]:
    """A page behind login_required only: anyone signed in may use it, role or not."""
    return {who: to_sign_in(url) if who == ANONYMOUS else (200, None) for who in EVERYONE}


def staff_only(page: dict[str, tuple[int, str | None]]) -> dict[str, tuple[int, str | None]]:
    """A staff page that a borrower never reaches (portal.middleware: every URL outside /portal/ is 403 for them)."""
    return page | {Role.BORROWER.value: (403, None)}


# url -> who -> (status, Location or None when the response is not a redirect)
EXPECTED: dict[str, dict[str, tuple[int, str | None]]] = {
    "/": {ANONYMOUS: to_sign_in("/"), NO_ROLE: (403, None)} | {role.value: (302, HOME[role]) for role in Role},
    "/login/": {ANONYMOUS: (200, None)} | dict.fromkeys(SIGNED_IN, (302, "/")),
    # Borrowers have their own settings, password change and reset on the portal.
    "/preferences/": staff_only(signed_in_page("/preferences/")),
    "/password/change/": staff_only(signed_in_page("/password/change/")),
    "/password/reset/": staff_only(dict.fromkeys(EVERYONE, (200, None))),
    "/applications/": staff_page(
        "/applications/", Role.OFFICER, Role.REVIEWER, Role.APPROVER, Role.RISK_OFFICER, Role.MANAGER
    ),
    "/applications/review/": staff_page("/applications/review/", Role.REVIEWER),
    "/applications/approvals/": staff_page("/applications/approvals/", Role.APPROVER, Role.MANAGER),
    "/followups/warnings/": staff_page("/followups/warnings/", Role.RISK_OFFICER, Role.MANAGER),
    "/dashboard/": staff_page("/dashboard/", Role.MANAGER),
    # The portal sends anonymous visitors to its own sign-in (by mobile number).
    "/portal/": staff_page("/portal/", Role.BORROWER) | {ANONYMOUS: (302, "/portal/sign-in/?next=/portal/")},
    "/notifications/outbox/": staff_page("/notifications/outbox/", Role.ADMIN),
    # Django admin lets in staff accounts only (the admin role's user is_staff) and sends everyone else to its login.
    "/admin/": staff_only(
        {who: (200, None) if who == Role.ADMIN else (302, "/admin/login/?next=/admin/") for who in EVERYONE}
    ),
    "/healthz": dict.fromkeys(EVERYONE, (200, None)),
}

CASES = [
    pytest.param(url, who, *expected[who], id=f"{url} as {who}")
    for url, expected in EXPECTED.items()
    for who in EVERYONE
]


@pytest.fixture
def people(role_users, make_user, branches) -> dict:
    admin = role_users[Role.ADMIN]
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    return {role.value: user for role, user in role_users.items()} | {
        NO_ROLE: make_user("no_role_test", branch=branches["BJ"]),
    }


@pytest.fixture
def healthy_broker(monkeypatch):
    # The matrix is about who gets in; whether a broker runs on this machine is tests/core/test_healthz.py's business.
    monkeypatch.setattr("core.views._check_broker", lambda: "ok")


@pytest.mark.usefixtures("healthy_broker")
@pytest.mark.parametrize(("url", "who", "status", "location"), CASES)
def test_it_gives_each_person_the_expected_response(client, people, url, who, status, location):
    if who != ANONYMOUS:
        client.force_login(people[who])

    response = client.get(url)

    assert response.status_code == status
    assert response.get("Location") == location


def test_it_renders_the_project_404_page(client, role_users):
    client.force_login(role_users[Role.OFFICER])

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "errors/404.html" in [template.name for template in response.templates]
    assert '<p class="display-6">404</p>' in response.content.decode()


def test_it_renders_the_403_page_with_the_reason_in_the_users_language(client, make_user, branches):
    officer = make_user("officer_en", Role.OFFICER, branch=branches["BJ"], preferred_language="en")
    client.force_login(officer)

    response = client.get("/dashboard/")

    assert response.status_code == 403
    assert "errors/403.html" in [template.name for template in response.templates]
    assert '<html lang="en">' in response.content.decode()
    assert "Your role does not allow this." in response.content.decode()


def test_it_renders_the_403_page_in_chinese_by_default(client, role_users):
    client.force_login(role_users[Role.OFFICER])

    response = client.get("/dashboard/")

    assert response.status_code == 403
    assert "errors/403.html" in [template.name for template in response.templates]
    assert '<html lang="zh-Hans">' in response.content.decode()
