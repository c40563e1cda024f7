"""Signing in and out: the role home after sign-in, wrong passwords, the 15-minute lockout and sign-out."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY

from accounts.roles import Role
from core.dates import SHANGHAI
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/login/"
WRONG_PASSWORD = "Wrong-Horse-41"
# The page is translated and the default language is zh-hans: ask for English the way a browser would, by cookie.
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}
NINE_AM = datetime(2026, 3, 10, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def english_client(client):
    client.cookies["loantrack_language"] = "en"
    return client


@pytest.fixture
def officer(role_users):
    return role_users[Role.OFFICER]


def sign_in(client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **ENGLISH)


def signed_in_user_id(client) -> str | None:
    return client.session.get(SESSION_KEY)


def test_it_signs_in_with_the_right_password_and_lands_on_the_role_home(client, officer):
    response = sign_in(client, officer.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(officer.pk)
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"] == "/applications/"
    assert client.get(home["Location"]).status_code == 200


def test_it_follows_next_after_signing_in(client, officer):
    response = client.post(
        "/login/?next=/preferences/", {"username": officer.username, "password": TEST_PASSWORD, "next": "/preferences/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/preferences/"


def test_it_does_not_follow_next_to_another_site(client, officer):
    response = client.post(
        LOGIN_URL, {"username": officer.username, "password": TEST_PASSWORD, "next": "https://evil.example.com/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_it_refuses_a_wrong_password_and_says_why(english_client, officer):
    response = sign_in(english_client, officer.username, WRONG_PASSWORD)

    assert response.status_code == 200
    assert "The username or password is not right." in response.content.decode()
    assert signed_in_user_id(english_client) is None


def test_it_locks_a_username_after_five_failures_even_for_the_right_password(english_client, officer):
    for _ in range(5):
        sign_in(english_client, officer.username, WRONG_PASSWORD)

    response = sign_in(english_client, officer.username, TEST_PASSWORD)

    assert response.status_code == 429
    content = response.content.decode()
    assert 'data-testid="lockout"' in content
    assert "This account is locked for 15 minutes" in content
    assert signed_in_user_id(english_client) is None
    assert not response.wsgi_request.user.is_authenticated


def test_it_shows_the_lockout_in_the_default_language_too(client, officer):
    for _ in range(5):
        client.post(LOGIN_URL, {"username": officer.username, "password": WRONG_PASSWORD})

    response = client.post(LOGIN_URL, {"username": officer.username, "password": TEST_PASSWORD})

    assert response.status_code == 429
    content = response.content.decode()
    assert '<html lang="zh-Hans">' in content
    assert 'data-testid="lockout"' in content
    assert "15" in content.split('data-testid="lockout">', 1)[1].split("</div>", 1)[0]
    assert signed_in_user_id(client) is None


def test_it_does_not_lock_after_four_failures(client, officer):
    for _ in range(4):
        sign_in(client, officer.username, WRONG_PASSWORD)

    response = sign_in(client, officer.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(officer.pk)


def test_it_locks_only_the_username_that_failed(client, role_users, officer):
    for _ in range(5):
        sign_in(client, officer.username, WRONG_PASSWORD)
    reviewer = role_users[Role.REVIEWER]

    response = sign_in(client, reviewer.username, TEST_PASSWORD)

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(reviewer.pk)


def test_it_keeps_the_lock_for_the_whole_15_minutes(client, officer):
    with time_machine.travel(NINE_AM, tick=False) as traveller:
        for _ in range(5):
            sign_in(client, officer.username, WRONG_PASSWORD)
        traveller.shift(timedelta(minutes=14))

        response = sign_in(client, officer.username, TEST_PASSWORD)

        # Inside the travel: the session would have expired by the real clock.
        assert response.status_code == 429
        assert signed_in_user_id(client) is None


def test_it_lets_the_user_in_again_after_15_minutes(client, officer):
    with time_machine.travel(NINE_AM, tick=False) as traveller:
        for _ in range(5):
            sign_in(client, officer.username, WRONG_PASSWORD)
        traveller.shift(timedelta(minutes=16))

        response = sign_in(client, officer.username, TEST_PASSWORD)

        assert response.status_code == 302
        assert signed_in_user_id(client) == str(officer.pk)


def test_it_ends_the_lock_15_minutes_after_the_fifth_failure_even_if_the_user_retried(client, officer):
    with time_machine.travel(NINE_AM, tick=False) as traveller:
        for _ in range(5):
            sign_in(client, officer.username, WRONG_PASSWORD)
        traveller.shift(timedelta(minutes=14))
        assert sign_in(client, officer.username, TEST_PASSWORD).status_code == 429
        traveller.shift(timedelta(minutes=2))

        response = sign_in(client, officer.username, TEST_PASSWORD)

        assert response.status_code == 302


def test_it_refuses_sign_out_by_get(client, officer):
    client.force_login(officer)

    response = client.get("/logout/")

    assert response.status_code == 405
    assert signed_in_user_id(client) == str(officer.pk)


def test_it_signs_out_by_post_and_ends_the_session(client, officer):
    client.force_login(officer)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert signed_in_user_id(client) is None
    assert client.get("/applications/")["Location"] == "/login/?next=/applications/"


def test_it_shows_the_no_role_page_to_a_user_without_a_role(english_client, make_user, branches):
    make_user("new_colleague", branch=branches["BJ"], preferred_language="en")

    signed_in = sign_in(english_client, "new_colleague", TEST_PASSWORD)
    response = english_client.get(signed_in["Location"])

    assert signed_in.status_code == 302
    assert response.status_code == 403
    assert "accounts/no_role.html" in [template.name for template in response.templates]
    assert "Your account has no role yet" in response.content.decode()


def test_it_keeps_the_language_chosen_on_the_sign_in_page(client, officer):
    client.post("/language/", {"language": "en", "next": "/login/"})

    client.post("/login/", {"username": officer.username, "password": TEST_PASSWORD})

    officer.refresh_from_db()
    assert officer.preferred_language == "en"
    assert '<html lang="en">' in client.get("/applications/").content.decode()


def test_it_adds_no_history_row_when_someone_signs_in(client, officer):
    before = officer.history.count()

    client.post("/login/", {"username": officer.username, "password": TEST_PASSWORD})

    officer.refresh_from_db()
    assert officer.last_login is not None
    assert officer.history.count() == before
