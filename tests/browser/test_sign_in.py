"""Each role signs in in a real browser, lands on its home page, and switches language."""

import pytest

from accounts.roles import Role
from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME_PATHS = {
    Role.OFFICER: "/applications/",
    Role.REVIEWER: "/applications/review/",
    Role.APPROVER: "/applications/approvals/",
    Role.RISK_OFFICER: "/followups/warnings/",
    Role.MANAGER: "/dashboard/",
    Role.ADMIN: "/notifications/outbox/",
    Role.BORROWER: "/portal/",
}


def sign_in(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("[data-testid=sign-in]")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("role", list(Role), ids=lambda role: role.value)
def test_it_lands_each_role_on_its_home_page(role, role_users, live_server, page, screenshot):
    sign_in(page, live_server, role_users[role].username)

    assert page.url == f"{live_server.url}{HOME_PATHS[role]}"
    assert page.locator("[data-testid=user-menu]").inner_text().startswith(str(role_users[role]))
    screenshot(page, f"home-{role.value}")


def test_it_switches_language_and_remembers_it_for_the_user(role_users, live_server, page, screenshot):
    officer = role_users[Role.OFFICER]
    sign_in(page, live_server, officer.username)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "我的贷款申请" in page.locator("h1").inner_text()

    page.click("[data-testid=language-en]")
    page.wait_for_load_state("networkidle")

    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("My applications")
    officer.refresh_from_db()
    assert officer.preferred_language == "en"
    screenshot(page, "home-officer-english")


def test_it_shows_the_lockout_message_on_the_sixth_attempt(role_users, live_server, page, screenshot):
    page.goto(f"{live_server.url}/login/")
    for _ in range(5):
        page.fill("input[name=username]", role_users[Role.REVIEWER].username)
        page.fill("input[name=password]", "wrong-password-1")
        page.click("[data-testid=sign-in]")
    page.fill("input[name=username]", role_users[Role.REVIEWER].username)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("[data-testid=sign-in]")

    assert page.locator("[data-testid=lockout]").is_visible()
    assert "/login/" in page.url
    screenshot(page, "login-locked")
