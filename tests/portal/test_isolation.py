"""Every portal URL × (owner, another borrower, staff, anonymous), generated from portal.urls so that a new page
cannot be forgotten: the owner gets the page, another borrower 404 (nothing leaks, not even existence), staff 403 and
an anonymous visitor the portal's sign-in page."""

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


def _mismatches(client, world, expected) -> list[str]:
    """Request every private portal URL; list those whose answer is not `expected(name, response)`.

    One world serves the whole matrix (building it costs seconds); each URL is still checked and named on failure.
    """
    wrong = []
    for name in PRIVATE_NAMES:
        url, response = _request(client, name, world)
        if not expected(name, response):
            wrong.append(f"{name} {url} → {response.status_code} {response.get('Location', '')}")
    return wrong


def test_owner_gets_every_page(client, world):
    client.force_login(world["owner_user"])
    # A POST with no data is a bad request or a redirect with a message, never a refusal of access.
    allowed = {"get": (200,), "post": (200, 302, 400)}
    assert _mismatches(client, world, lambda name, r: r.status_code in allowed[MATRIX[name][0]]) == []


def test_another_borrower_gets_404_for_every_object_of_the_owner(client, world):
    client.force_login(world["other_user"])
    expected = lambda name, r: r.status_code == (404 if name in OBJECT_PAGES else 200)  # noqa: E731
    assert _mismatches(client, world, expected) == []


def test_staff_get_403_everywhere(client, world, staff):
    for person in (staff["officer"], staff["manager"]):
        client.force_login(person)
        assert _mismatches(client, world, lambda name, r: r.status_code == 403) == []


def test_anonymous_goes_to_the_portal_sign_in_everywhere(client, world):
    login = reverse("portal:login")
    expected = lambda name, r: r.status_code == 302 and r["Location"].startswith(f"{login}?next=")  # noqa: E731
    assert _mismatches(client, world, expected) == []


STAFF_PAGES = [
    "applications:list",
    "postloan:list",
    "followups:today",
    "followups:warnings",
    "notifications:outbox",
    "dashboard:home",
    "accounts:preferences",
    "admin:index",
]


def test_a_borrower_never_reaches_a_staff_page(client, world):
    client.force_login(world["owner_user"])
    assert {name: client.get(reverse(name)).status_code for name in STAFF_PAGES} == dict.fromkeys(STAFF_PAGES, 403)
    assert client.get(reverse("applications:detail", args=[world["preparing"].pk])).status_code == 403
    assert client.get(reverse("postloan:detail", args=[world["loan"].pk])).status_code == 403


def test_no_internal_text_on_the_rejected_application(client, world):
    """The reviewer's comment is internal: the borrower sees the gentle reason for the code only."""
    client.force_login(world["owner_user"])
    for url in (reverse("portal:home"), reverse("portal:application", args=[world["rejected"].number])):
        html = client.get(url).content.decode()
        assert INTERNAL_NOTE not in html
        assert "evasive" not in html
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
