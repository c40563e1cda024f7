"""Every portal URL × (owner, another borrower, staff, anonymous), generated from portal.urls so that a new page
cannot be forgotten: the owner gets the page, another borrower 404 (nothing leaks, not even existence), staff 403 and
an anonymous visitor the portal's sign-in page."""

import pytest
from django.urls import reverse

from portal.urls import PUBLIC_URL_NAMES, urlpatterns

from .conftest import INTERNAL_NOTE

# name → (method, kwargs from the world). A portal URL missing here fails test_every_url_is_in_the_matrix.
MATRIX = {
    "home": ("get", lambda w: {}),
    "application": ("get", lambda w: {"number": w["preparing"].number}),
    "material_upload": ("post", lambda w: {"number": w["preparing"].number, "pk": w["material"].pk}),
    "disclosure": ("get", lambda w: {"number": w["preparing"].number}),
    "loan": ("get", lambda w: {"number": w["loan"].number}),
    "schedule_print": ("get", lambda w: {"number": w["loan"].number}),
    "messages": ("get", lambda w: {}),
    "inquiries": ("get", lambda w: {}),
    "inquiry": ("get", lambda w: {"pk": w["inquiry"].pk}),
    "inquiry_rate": ("post", lambda w: {"pk": w["inquiry"].pk}),
    "followup_rate": ("get", lambda w: {"pk": w["rated_followup"].pk}),
    "questionnaire": ("get", lambda w: {"pk": w["questionnaire"].pk}),
    "preferences": ("get", lambda w: {}),
    "password_change": ("get", lambda w: {}),
}
PRIVATE_NAMES = sorted(pattern.name for pattern in urlpatterns if pattern.name not in PUBLIC_URL_NAMES)
# Pages with an object in the URL (a number or pk); the others show the signed-in borrower's own things, so another
# borrower sees theirs.
OBJECT_PAGES = {pattern.name for pattern in urlpatterns if pattern.pattern.converters}


def test_every_url_is_in_the_matrix():
    assert set(PRIVATE_NAMES) == set(MATRIX), "add the new portal URL to MATRIX with its method and object"


def _request(client, name, world):
    method, kwargs = MATRIX[name]
    url = reverse(f"portal:{name}", kwargs=kwargs(world))
    return url, getattr(client, method)(url)


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_owner_gets_the_page(client, world, name):
    client.force_login(world["owner_user"])
    _url, response = _request(client, name, world)
    # A POST with no data is a bad request or a redirect with a message, never a refusal of access.
    assert response.status_code in ((200,) if MATRIX[name][0] == "get" else (200, 302, 400))


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_another_borrower_gets_404_for_the_owners_object(client, world, name):
    client.force_login(world["other_user"])
    _url, response = _request(client, name, world)
    assert response.status_code == (404 if name in OBJECT_PAGES else 200)


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_staff_get_403(client, world, staff, name):
    client.force_login(staff["officer"])
    _url, response = _request(client, name, world)
    assert response.status_code == 403


@pytest.mark.parametrize("name", PRIVATE_NAMES)
def test_anonymous_goes_to_the_portal_sign_in(client, world, name):
    _url, response = _request(client, name, world)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert "next=" in response["Location"]


@pytest.mark.parametrize(
    "url_name",
    [
        "applications:list",
        "postloan:list",
        "followups:today",
        "followups:warnings",
        "notifications:outbox",
        "dashboard:home",
        "accounts:preferences",
        "admin:index",
    ],
)
def test_a_borrower_never_reaches_a_staff_page(client, world, url_name):
    client.force_login(world["owner_user"])
    assert client.get(reverse(url_name)).status_code == 403


def test_staff_urls_with_the_owners_objects_are_403_for_the_borrower(client, world):
    client.force_login(world["owner_user"])
    assert client.get(reverse("applications:detail", args=[world["preparing"].pk])).status_code == 403
    assert client.get(reverse("postloan:detail", args=[world["loan"].pk])).status_code == 403


@pytest.mark.parametrize(
    "name",
    ["home", "application"],
)
def test_no_internal_text_on_the_rejected_application(client, world, name):
    """The reviewer's comment is internal: the borrower sees the gentle reason for the code only."""
    client.force_login(world["owner_user"])
    kwargs = {"number": world["rejected"].number} if name == "application" else {}
    html = client.get(reverse(f"portal:{name}", kwargs=kwargs)).content.decode()
    assert INTERNAL_NOTE not in html
    assert "evasive" not in html
    if name == "application":
        assert "Your existing repayments are already high compared with your income." in html


def test_no_score_or_identity_number_in_portal_pages(client, world):
    client.force_login(world["owner_user"])
    owner = world["owner"]
    for name in ("home", "preferences", "loan", "schedule_print", "application"):
        kwargs = {"number": world["loan"].number} if name in ("loan", "schedule_print") else {}
        if name == "application":
            kwargs = {"number": world["preparing"].number}
        html = client.get(reverse(f"portal:{name}", kwargs=kwargs)).content.decode()
        assert owner.identity_number not in html
        assert "6222021234567890123" not in html.replace(" ", "")
        assert "scorecard" not in html.lower()
