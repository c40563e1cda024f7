"""The officer's application pages: the list, a new application, the detail page and its actions, and who may act."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from applications import services
from applications.models import Application, ApplicationStatus, Collateral, Party
from notifications.models import OutboxMessage

from .factories import RESIDENT_IDS, complete, make_application, make_borrower, make_product, pdf, submitted

pytestmark = pytest.mark.django_db

LIST_URL = reverse("applications:list")


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


def detail_url(application, tab: str = "") -> str:
    url = reverse("applications:detail", args=[application.pk])
    return f"{url}?tab={tab}" if tab else url


def row_numbers(response) -> list[str]:
    return [application.number for application in response.context["page_obj"]]


def h1_text(response) -> str:
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", response.content.decode(), re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", heading).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- the list ---------------------------------------------------------------------------------------------------


def test_it_shows_an_officer_their_own_applications_by_default(client, staff, product):
    mine = make_application(staff["officer"])
    colleague = make_application(
        staff["officer2"], borrower=make_borrower(staff["officer2"], number=RESIDENT_IDS[1], name="王芳")
    )
    client.force_login(staff["officer"])

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert row_numbers(response) == [mine.number]
    assert response.content.decode().count('data-testid="application-row"') == 1
    assert response.context["showing_mine"] is True
    branch = client.get(LIST_URL, {"show": "branch"})
    assert set(row_numbers(branch)) == {mine.number, colleague.number}


def test_it_titles_the_officer_list_my_applications_in_both_languages(client, staff):
    client.force_login(staff["officer"])
    assert h1_text(client.get(LIST_URL)) == "My applications (0)"

    User.objects.filter(pk=staff["officer"].pk).update(preferred_language="zh-hans")
    with translation.override("zh-hans"):
        chinese = translation.gettext("My applications")  # 我的贷款申请 once the catalog has it
    assert h1_text(client.get(LIST_URL)) == f"{chinese} (0)"


def test_it_shows_a_reviewer_the_whole_branch_but_never_another_branch(client, staff, product):
    ours = make_application(staff["officer"])
    theirs = make_application(
        staff["other_officer"], borrower=make_borrower(staff["other_officer"], number=RESIDENT_IDS[2], name="陈刚")
    )
    client.force_login(staff["reviewer"])

    response = client.get(LIST_URL)

    assert row_numbers(response) == [ours.number]
    assert theirs.number not in response.content.decode()
    assert h1_text(response) == "Applications (1)"
    assert "New application" not in response.content.decode()


def test_it_finds_an_application_by_full_identity_number_name_mobile_and_number(client, staff, product):
    first = make_application(staff["officer"])
    second = make_application(
        staff["officer"],
        borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile="13912345678"),
    )
    client.force_login(staff["officer"])

    assert row_numbers(client.get(LIST_URL, {"q": RESIDENT_IDS[1]})) == [second.number]
    assert row_numbers(client.get(LIST_URL, {"q": RESIDENT_IDS[0]})) == [first.number]
    assert row_numbers(client.get(LIST_URL, {"q": "王芳"})) == [second.number]
    assert row_numbers(client.get(LIST_URL, {"q": "13912345678"})) == [second.number]
    assert row_numbers(client.get(LIST_URL, {"q": first.number})) == [first.number]
    # A partial identity number finds nothing: identity numbers are matched exactly, by keyed hash.
    assert row_numbers(client.get(LIST_URL, {"q": RESIDENT_IDS[1][:10]})) == []


def test_it_filters_by_status_product_dates_and_review_target(client, staff, product):
    draft = make_application(staff["officer"])
    waiting = submitted(staff["officer"], borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[1]))
    car = make_product("AUTO", name_en="Car loan", name_zh="车贷")
    car_loan = make_application(
        staff["officer"], product=car, borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[2])
    )
    Application.objects.filter(pk=draft.pk).update(created_at=timezone.now() - timedelta(days=40))
    Application.objects.filter(pk=waiting.pk).update(sla_due_at=timezone.now() - timedelta(hours=1))
    client.force_login(staff["officer"])

    assert row_numbers(client.get(LIST_URL, {"status": "submitted"})) == [waiting.number]
    assert row_numbers(client.get(LIST_URL, {"product": car.pk})) == [car_loan.number]
    recent = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert draft.number not in row_numbers(client.get(LIST_URL, {"created_from": recent}))
    assert row_numbers(client.get(LIST_URL, {"created_to": recent})) == [draft.number]
    breached = client.get(LIST_URL, {"breached": "on"})
    assert row_numbers(breached) == [waiting.number]
    assert 'data-testid="sla-overdue"' in breached.content.decode()


def test_it_counts_applications_per_status_in_the_heading(client, staff, product):
    make_application(staff["officer"])
    make_application(staff["officer"], borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[1]))
    submitted(staff["officer"], borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[2]))
    client.force_login(staff["officer"])

    page = client.get(LIST_URL).content.decode()

    assert 'data-testid="total-count">(3)' in page
    assert "Draft 2" in page
    assert "Submitted, waiting for initial review 1" in page
    assert "All 3" in page


def test_it_pages_the_list_25_at_a_time(client, staff, product):
    borrower = make_borrower(staff["officer"])
    for _ in range(27):
        make_application(staff["officer"], borrower=borrower)
    client.force_login(staff["officer"])

    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})

    assert len(row_numbers(first)) == 25
    assert len(row_numbers(second)) == 2
    assert "Page 1 of 2" in first.content.decode()
    assert 'data-testid="total-count">(27)' in first.content.decode()
    assert not set(row_numbers(first)) & set(row_numbers(second))


def test_it_shows_an_empty_state_that_offers_a_new_application(client, staff):
    client.force_login(staff["officer"])

    page = client.get(LIST_URL).content.decode()

    assert 'data-testid="empty-state"' in page
    assert "You have no applications yet" in page
    assert reverse("applications:new") in page


def test_it_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_it_refuses_the_list_to_a_borrower(client, role_users):
    client.force_login(role_users["borrower"])
    assert client.get(LIST_URL).status_code == 403


# --- a new application ------------------------------------------------------------------------------------------


def test_it_opens_a_draft_from_the_details_form_and_shows_it(client, staff, product):
    borrower = make_borrower(staff["officer"])
    url = reverse("applications:create", args=[borrower.pk, product.pk])
    client.force_login(staff["officer"])

    form = client.get(url, {"amount": "100000", "term_months": "12", "method": "equal_principal"})
    assert form.status_code == 200
    assert form.context["form"].initial["annual_rate"] == Decimal("4.3500")
    assert form.context["form"].initial["method"] == "equal_principal"
    assert [value for value, _label in form.context["form"].fields["method"].choices] == product.methods

    response = client.post(
        url,
        {
            "amount": "100000",
            "term_months": "12",
            "method": "equal_installment",
            "annual_rate": "4.35",
            "purpose": "装修",
            "channel": "walk_in",
        },
    )

    application = Application.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(application, "summary")
    assert application.status == ApplicationStatus.DRAFT
    assert application.officer == staff["officer"]
    assert application.materials.count() == 2
    page = client.get(response.url)
    assert page.status_code == 200
    assert application.number in page.content.decode()
    assert "Missing material: Identity card copy" in page.content.decode()


def test_it_explains_terms_outside_the_product_and_opens_nothing(client, staff, product):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(
        reverse("applications:create", args=[borrower.pk, product.pk]),
        {
            "amount": "900000",
            "term_months": "12",
            "method": "equal_installment",
            "annual_rate": "4.35",
            "purpose": "装修",
            "channel": "walk_in",
        },
    )

    assert response.status_code == 400
    assert "The amount must be between ¥10,000.00 and ¥500,000.00 for this product." in response.content.decode()
    assert not Application.objects.exists()


# --- the detail page --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["summary", "borrower", "materials", "assessment", "reviews", "timeline"])
def test_it_shows_every_tab_to_the_officer_and_to_a_reviewer(client, staff, product, tab):
    application = submitted(staff["officer"])
    for user in (staff["officer"], staff["reviewer"], staff["hq_manager"]):
        client.force_login(user)
        response = client.get(detail_url(application, tab))
        assert response.status_code == 200
        assert response.context["tab"] == tab


def test_it_hides_another_branchs_application(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["other_officer"])

    assert client.get(detail_url(application)).status_code == 404
    assert client.get(reverse("applications:disclosure", args=[application.pk])).status_code == 404
    assert client.get(reverse("applications:edit", args=[application.pk])).status_code == 404


def test_it_lists_what_blocks_submission_with_links_to_fix_it(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])

    response = client.get(detail_url(application))

    page = response.content.decode()
    blockers = dict(response.context["blockers"])
    assert "Missing material: Identity card copy" in page
    assert "The borrower has not acknowledged the current risk disclosure." in page
    assert blockers["The credit assessment has not been done."].endswith("?tab=assessment")
    assert blockers["The borrower has not acknowledged the current risk disclosure."] == reverse(
        "applications:disclosure", args=[application.pk]
    )
    first_material = application.materials.order_by("pk").first()
    assert blockers["Missing material: Identity card copy"].endswith(f"#material-{first_material.pk}")
    assert 'data-testid="submit-application"\n                  disabled' in page


def test_it_refuses_to_submit_with_the_blockers_listed(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(reverse("applications:submit", args=[application.pk]), follow=True)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    [message] = messages_of(response)
    assert message.startswith("The application cannot be submitted yet:")
    assert "Missing material: Identity card copy" in message
    assert "Missing material: Bank statements, 6 months" in message
    assert "The credit assessment has not been done." in message


def test_it_submits_a_complete_application(client, staff, product):
    application = complete(make_application(staff["officer"]), staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(reverse("applications:submit", args=[application.pk]), follow=True)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.sla_due_at is not None
    assert any("is submitted for initial review" in message for message in messages_of(response))
    assert OutboxMessage.objects.filter(template="application_received").count() == 1


def test_it_says_so_when_submitting_twice(client, staff, product):
    application = submitted(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(reverse("applications:submit", args=[application.pk]), follow=True)

    assert response.status_code == 200
    assert any("Submitted, waiting for initial review" in message for message in messages_of(response))


def test_it_edits_the_requested_terms(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])
    url = reverse("applications:edit", args=[application.pk])

    assert client.get(url).context["form"].initial["amount"] == Decimal("100000.00")
    response = client.post(
        url,
        {
            "amount": "120000",
            "term_months": "24",
            "method": "equal_principal",
            "annual_rate": "5.5",
            "purpose": "装修",
            "channel": "phone",
        },
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert (application.amount, application.term_months, application.method) == (
        Decimal("120000.00"),
        24,
        "equal_principal",
    )
    refused = client.post(
        url,
        {
            "amount": "5",
            "term_months": "24",
            "method": "equal_principal",
            "annual_rate": "5.5",
            "purpose": "装修",
            "channel": "phone",
        },
    )
    assert refused.status_code == 400
    assert "The amount must be between" in refused.content.decode()


def test_it_adds_and_removes_parties_and_collateral(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(
        reverse("applications:party_add", args=[application.pk]),
        {"role": "guarantor", "name": "张伟", "relationship": "兄弟", "mobile": "+86 139 1234 5678"},
    )
    assert response.status_code == 302
    assert response.url.endswith("?tab=summary#parties")
    party = Party.objects.get()
    assert party.mobile == "13912345678"

    response = client.post(
        reverse("applications:collateral_add", args=[application.pk]),
        {"kind": "vehicle", "description": "比亚迪汉", "estimated_value": "150000", "custodian": party.pk},
    )
    assert response.status_code == 302
    item = Collateral.objects.get()
    assert item.custodian == party

    client.post(reverse("applications:collateral_remove", args=[application.pk, item.pk]))
    client.post(reverse("applications:party_remove", args=[application.pk, party.pk]))
    assert not Collateral.objects.exists()
    assert not Party.objects.exists()


def test_it_shows_party_form_errors_on_the_page(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(
        reverse("applications:party_add", args=[application.pk]), {"role": "guarantor", "name": "张伟", "mobile": "123"}
    )

    assert response.status_code == 400
    assert "Enter a mainland China mobile number" in response.content.decode()
    assert not Party.objects.exists()


def test_it_records_the_disclosure_and_the_assessment(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])
    disclosure_url = reverse("applications:disclosure", args=[application.pk])

    page = client.get(disclosure_url).content.decode()
    assert "Borrowing has risks." in page
    assert 'data-testid="not-acknowledged"' in page
    client.post(disclosure_url)
    assert 'data-testid="acknowledged"' in client.get(disclosure_url).content.decode()
    assert services.has_current_acknowledgement(application)

    response = client.post(
        reverse("applications:assessment", args=[application.pk]),
        {"income_stability": "stable", "credit_flags": ["current_overdue"]},
        follow=True,
    )
    page = response.content.decode()
    assert "The borrower is currently overdue with another lender." in page
    assert 'data-testid="hard-stops"' in page
    application.refresh_from_db()
    assert application.assessment.credit_flags == ["current_overdue"]


def test_it_withdraws_with_a_reason_and_refuses_without_one(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])
    url = reverse("applications:withdraw", args=[application.pk])

    refused = client.post(url, {"reason": " "}, follow=True)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert "Say why the application is withdrawn." in messages_of(refused)

    client.post(url, {"reason": "借款人已从别处贷款"})
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert application.events.filter(to_status="withdrawn", note="借款人已从别处贷款").exists()


def test_it_lets_a_reviewer_add_a_note_to_the_timeline(client, staff, product):
    application = submitted(staff["officer"])
    client.force_login(staff["reviewer"])

    response = client.post(reverse("applications:note_add", args=[application.pk]), {"text": "已电话核实收入"})

    assert response.status_code == 302
    timeline = client.get(detail_url(application, "timeline")).content.decode()
    assert "已电话核实收入" in timeline
    assert "reviewer_a" in timeline


def test_it_lets_a_manager_reassign_and_tells_the_new_officer(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["manager"])

    page = client.get(detail_url(application)).content.decode()
    assert 'id="reassign"' in page
    response = client.post(
        reverse("applications:reassign", args=[application.pk]), {"officer": staff["officer2"].pk}, follow=True
    )

    application.refresh_from_db()
    assert application.officer == staff["officer2"]
    assert OutboxMessage.objects.filter(recipient=staff["officer2"], template="application_assigned").count() == 1
    assert any("officer_b" in message for message in messages_of(response))


def test_it_refuses_reassignment_to_an_officer(client, staff, product):
    application = make_application(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(reverse("applications:reassign", args=[application.pk]), {"officer": staff["officer2"].pk})

    assert response.status_code == 403
    application.refresh_from_db()
    assert application.officer == staff["officer"]
    assert not OutboxMessage.objects.exists()
    assert 'id="reassign"' not in client.get(detail_url(application)).content.decode()


# --- who may act ------------------------------------------------------------------------------------------------


def _officer_posts(application, party, item, material):
    pk = application.pk
    terms = {
        "amount": "120000",
        "term_months": "12",
        "method": "equal_installment",
        "annual_rate": "4.35",
        "purpose": "x",
        "channel": "walk_in",
    }
    return [
        (reverse("applications:edit", args=[pk]), terms),
        (reverse("applications:party_add", args=[pk]), {"role": "guarantor", "name": "X", "mobile": "13912345678"}),
        (reverse("applications:party_remove", args=[pk, party.pk]), {}),
        (
            reverse("applications:collateral_add", args=[pk]),
            {"kind": "other", "description": "X", "estimated_value": 1},
        ),
        (reverse("applications:collateral_remove", args=[pk, item.pk]), {}),
        (reverse("applications:disclosure", args=[pk]), {}),
        (reverse("applications:assessment", args=[pk]), {"income_stability": "stable"}),
        (reverse("applications:submit", args=[pk]), {}),
        (reverse("applications:withdraw", args=[pk]), {"reason": "x"}),
        (reverse("applications:material_add", args=[pk]), {"name": "租赁合同"}),
        (reverse("applications:material_upload", args=[pk, material.pk]), {"file": pdf()}),
    ]


@pytest.fixture
def draft_with_everything(staff, product):
    application = make_application(staff["officer"])
    party = services.party_add(
        application=application, by=staff["officer"], role="guarantor", name="张伟", mobile="13912345678"
    )
    item = services.collateral_add(
        application=application, by=staff["officer"], kind="vehicle", description="车", estimated_value="1000"
    )
    return application, party, item, application.materials.first()


def _snapshot(application):
    application.refresh_from_db()
    return (
        application.status,
        application.amount,
        application.officer_id,
        application.parties.count(),
        application.collateral.count(),
        application.materials.count(),
        application.events.count(),
    )


@pytest.mark.parametrize("who", ["reviewer", "approver", "risk"])
def test_it_refuses_officer_actions_to_other_roles_with_403(client, staff, draft_with_everything, who):
    application, party, item, material = draft_with_everything
    before = _snapshot(application)
    client.force_login(staff[who])

    for url, data in _officer_posts(application, party, item, material):
        assert client.post(url, data).status_code == 403, url

    assert _snapshot(application) == before


def test_it_answers_404_to_every_post_from_another_branch(client, staff, draft_with_everything):
    application, party, item, material = draft_with_everything
    before = _snapshot(application)
    client.force_login(staff["other_officer"])

    posts = [
        *_officer_posts(application, party, item, material),
        (reverse("applications:note_add", args=[application.pk]), {"text": "x"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    client.force_login(staff["other_reviewer"])
    assert client.post(reverse("applications:note_add", args=[application.pk]), {"text": "x"}).status_code == 404
    assert (
        client.post(
            reverse("applications:material_check", args=[application.pk, material.pk]), {"decision": "accept"}
        ).status_code
        == 404
    )

    assert _snapshot(application) == before


def test_it_refuses_changes_by_an_officer_who_is_not_assigned(client, staff, draft_with_everything):
    application, party, item, material = draft_with_everything
    before = _snapshot(application)
    client.force_login(staff["officer2"])

    for url, data in _officer_posts(application, party, item, material):
        assert client.post(url, data).status_code == 403, url

    assert _snapshot(application) == before


def test_it_refuses_state_changes_over_get(client, staff, draft_with_everything):
    application, party, *_rest = draft_with_everything
    client.force_login(staff["officer"])

    assert client.get(reverse("applications:submit", args=[application.pk])).status_code == 405
    assert client.get(reverse("applications:party_remove", args=[application.pk, party.pk])).status_code == 405
    assert Party.objects.filter(pk=party.pk).exists()


def test_it_explains_why_a_submitted_application_can_no_longer_change(client, staff, product):
    application = submitted(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(
        reverse("applications:party_add", args=[application.pk]),
        {"role": "guarantor", "name": "张伟", "mobile": "13912345678"},
        follow=True,
    )

    assert response.status_code == 200
    assert any("can be changed only as a draft or after it was returned" in m for m in messages_of(response))
    assert not Party.objects.exists()


def test_it_points_the_reviewer_in_charge_to_the_review_page(client, staff, product):
    application = submitted(staff["officer"])
    services.application_start_review(application=application, by=staff["reviewer"])
    client.force_login(staff["reviewer"])

    response = client.get(detail_url(application))

    assert "Check every material, then record your initial review decision." in response.content.decode()
    assert response.context["next_step_url"] == reverse("applications:review_initial", args=[application.pk])
    client.force_login(staff["officer"])
    assert client.get(detail_url(application)).context["next_step_url"] == ""
