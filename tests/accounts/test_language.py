"""The language menu: a cookie for everyone, and a stored preference that follows a signed-in user to any browser."""

import pytest
from django.test import Client

from accounts.roles import Role

pytestmark = pytest.mark.django_db

LANGUAGE_URL = "/language/"
COOKIE = "loantrack_language"
ENGLISH_PAGE = '<html lang="en">'
CHINESE_PAGE = '<html lang="zh-Hans">'


@pytest.fixture
def officer(role_users):
    return role_users[Role.OFFICER]


def page(client, url: str = "/login/") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_it_switches_an_anonymous_visitor_to_english_by_cookie(client):
    assert CHINESE_PAGE in page(client)

    response = client.post(LANGUAGE_URL, {"language": "en", "next": "/login/"})

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies[COOKIE].value == "en"
    assert ENGLISH_PAGE in page(client)


def test_it_stores_the_choice_on_a_signed_in_user(client, officer):
    client.force_login(officer)
    assert CHINESE_PAGE in page(client, "/preferences/")

    response = client.post(LANGUAGE_URL, {"language": "en", "next": "/preferences/"})

    assert response.status_code == 302
    assert response.cookies[COOKIE].value == "en"
    officer.refresh_from_db()
    assert officer.preferred_language == "en"
    assert ENGLISH_PAGE in page(client, "/preferences/")


def test_it_keeps_the_stored_language_in_a_new_browser_without_the_cookie(client, officer):
    client.force_login(officer)
    client.post(LANGUAGE_URL, {"language": "en", "next": "/preferences/"})
    other_browser = Client()

    other_browser.force_login(officer)

    assert COOKIE not in other_browser.cookies
    assert ENGLISH_PAGE in page(other_browser, "/preferences/")
    assert ENGLISH_PAGE in page(other_browser, "/applications/")


def test_it_lets_the_stored_language_win_over_the_cookie_and_the_browser(client, make_user, branches):
    reviewer = make_user("reviewer_en", Role.REVIEWER, branch=branches["BJ"], preferred_language="en")
    client.cookies[COOKIE] = "zh-hans"
    client.force_login(reviewer)

    response = client.get("/applications/review/", HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert ENGLISH_PAGE in response.content.decode()


def test_it_refuses_get(client, officer):
    client.force_login(officer)

    response = client.get(LANGUAGE_URL, {"language": "en"})

    assert response.status_code == 405
    officer.refresh_from_db()
    assert officer.preferred_language == "zh-hans"
    assert COOKIE not in response.cookies


@pytest.mark.parametrize("language", ["fr", "xx", ""])
def test_it_ignores_a_language_it_does_not_offer(client, officer, language):
    client.force_login(officer)

    client.post(LANGUAGE_URL, {"language": language, "next": "/preferences/"})

    officer.refresh_from_db()
    assert officer.preferred_language == "zh-hans"
    assert CHINESE_PAGE in page(client, "/preferences/")


@pytest.mark.parametrize("language", ["fr", "xx"])
def test_it_keeps_an_anonymous_visitor_on_chinese_for_a_language_it_does_not_offer(client, language):
    client.post(LANGUAGE_URL, {"language": language, "next": "/login/"})

    assert CHINESE_PAGE in page(client)
