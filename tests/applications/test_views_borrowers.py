"""The first steps of the intake wizard: find or register a borrower, match products, reveal an identity number."""

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import AuditEvent, User
from applications.models import Borrower

from .factories import RESIDENT_IDS, make_borrower, make_product

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("applications:borrower_create")
PICK_URL = reverse("applications:new")


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


def borrower_data(**overrides) -> dict:
    return {
        "kind": "individual",
        "name": "李明",
        "identity_type": "resident_id",
        "identity_number": "11010119850307001 3",  # pasted with a space: normalised
        "mobile": "138 0013 8000",
        "email": "",
        "address": "北京市朝阳区建国路1号",
        "employer": "北京某某科技有限公司",
        "monthly_income": "30000",
        "monthly_debt_payments": "2000",
        "years_at_job": "5",
    } | overrides


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- find or register -------------------------------------------------------------------------------------------


def test_it_finds_borrowers_of_the_branch_by_name_mobile_or_identity_number(client, staff):
    borrower = make_borrower(staff["officer"])
    make_borrower(staff["other_officer"], number=RESIDENT_IDS[1], name="李明")  # same name, other branch
    client.force_login(staff["officer"])

    for query in ("李明", "13800138000", RESIDENT_IDS[0]):
        response = client.get(PICK_URL, {"q": query})
        assert response.context["results"] == [borrower], query
    page = client.get(PICK_URL, {"q": "李明"}).content.decode()
    assert reverse("applications:product_match", args=[borrower.pk]) in page
    assert "138****8000" in page
    assert RESIDENT_IDS[0] not in page


def test_it_offers_to_register_when_nobody_matches(client, staff):
    client.force_login(staff["officer"])

    page = client.get(PICK_URL, {"q": "赵六"}).content.decode()

    assert 'data-testid="empty-state"' in page
    assert "No borrower of your branch matches “赵六”" in page
    assert CREATE_URL in page


def test_it_registers_a_borrower_and_goes_on_to_product_matching(client, staff):
    client.force_login(staff["officer"])

    response = client.post(CREATE_URL, borrower_data())

    borrower = Borrower.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("applications:product_match", args=[borrower.pk])
    assert borrower.identity_number == RESIDENT_IDS[0]
    assert borrower.identity_masked != RESIDENT_IDS[0]
    assert str(borrower.birth_date) == "1985-03-07"
    assert borrower.mobile == "13800138000"
    assert borrower.branch == staff["officer"].branch
    assert borrower.monthly_income == Decimal("30000.00")


def test_it_shows_the_check_digit_message_for_a_mistyped_identity_number(client, staff):
    client.force_login(staff["officer"])

    response = client.post(CREATE_URL, borrower_data(identity_number="110101198503070014"))

    assert response.status_code == 400
    assert "The check digit does not match: this identity number has a typo." in response.content.decode()
    assert not Borrower.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "company"}, "A company is identified by its unified social credit code."),
        (
            {"identity_type": "uscc", "identity_number": "91350100M000100Y43"},
            "A person is identified by a resident identity card or a passport, not a USCC.",
        ),
        (
            {"identity_type": "passport", "identity_number": "E12345678"},
            "Enter the date of birth shown in the passport.",
        ),
        ({"mobile": "12345"}, "Enter a mainland China mobile number: 11 digits starting with 13 to 19."),
    ],
)
def test_it_refuses_identities_that_do_not_fit_the_borrower(client, staff, overrides, message):
    client.force_login(staff["officer"])

    response = client.post(CREATE_URL, borrower_data(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Borrower.objects.exists()


def test_it_registers_a_company_by_its_credit_code(client, staff):
    client.force_login(staff["officer"])

    response = client.post(
        CREATE_URL,
        borrower_data(
            kind="company",
            name="北京某某餐饮有限公司",
            legal_representative="王强",
            identity_type="uscc",
            identity_number="91350100M000100Y43",
        ),
    )

    assert response.status_code == 302
    company = Borrower.objects.get()
    assert (company.kind, company.birth_date, company.legal_representative) == ("company", None, "王强")


def test_it_takes_a_duplicate_to_the_existing_borrower_and_creates_nothing(client, staff):
    existing = make_borrower(staff["officer2"])
    client.force_login(staff["officer"])

    response = client.post(CREATE_URL, borrower_data(name="李明明", mobile="13912345678"), follow=True)

    assert response.redirect_chain == [(reverse("applications:borrower_detail", args=[existing.pk]), 302)]
    assert Borrower.objects.count() == 1
    existing.refresh_from_db()
    assert existing.name == "李明"
    [message] = messages_of(response)
    assert message.startswith("This person is already a borrower: 李明")


def test_it_names_the_branch_when_the_duplicate_belongs_to_another_one(client, staff):
    make_borrower(staff["other_officer"])
    client.force_login(staff["officer"])

    response = client.post(CREATE_URL, borrower_data())

    assert response.status_code == 400
    assert "This person is already a borrower of Shanghai Pudong Branch" in response.content.decode()  # English page
    assert Borrower.objects.count() == 1


def test_it_refuses_registration_to_a_reviewer(client, staff):
    client.force_login(staff["reviewer"])

    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, borrower_data()).status_code == 403
    assert not Borrower.objects.exists()


# --- the borrower's page ----------------------------------------------------------------------------------------


def test_it_shows_the_borrower_masked_with_their_applications(client, staff, product):
    from .factories import make_application

    borrower = make_borrower(staff["officer"])
    application = make_application(staff["officer"], borrower=borrower)
    client.force_login(staff["officer"])

    page = client.get(reverse("applications:borrower_detail", args=[borrower.pk])).content.decode()

    assert borrower.identity_masked in page
    assert RESIDENT_IDS[0] not in page
    assert application.number in page
    assert "New application for this borrower" in page
    assert 'data-testid="reveal-identity"' not in page  # officers may not reveal


def test_it_hides_a_borrower_of_another_branch(client, staff):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["other_officer"])

    assert client.get(reverse("applications:borrower_detail", args=[borrower.pk])).status_code == 404
    assert client.get(reverse("applications:product_match", args=[borrower.pk])).status_code == 404


def test_it_reveals_the_identity_number_to_a_reviewer_and_audits_it(client, staff):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["reviewer"])
    url = reverse("applications:identity_reveal", args=[borrower.pk])

    assert (
        'data-testid="reveal-identity"'
        in client.get(reverse("applications:borrower_detail", args=[borrower.pk])).content.decode()
    )
    partial = client.post(url, headers={"HX-Request": "true"})
    page = client.post(url)

    assert partial.status_code == 200
    assert RESIDENT_IDS[0] in partial.content.decode()
    assert "<html" not in partial.content.decode()
    assert RESIDENT_IDS[0] in page.content.decode()
    assert "<html" in page.content.decode()
    events = AuditEvent.objects.filter(actor=staff["reviewer"], action="reveal_identity", object_id=str(borrower.pk))
    assert events.count() == 2


def test_it_refuses_to_reveal_to_an_officer_and_writes_no_audit_row(client, staff):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["officer"])

    response = client.post(reverse("applications:identity_reveal", args=[borrower.pk]))

    assert response.status_code == 403
    assert RESIDENT_IDS[0] not in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_it_hides_another_branchs_borrower_from_a_reveal(client, staff):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["other_reviewer"])

    assert client.post(reverse("applications:identity_reveal", args=[borrower.pk])).status_code == 404
    assert not AuditEvent.objects.exists()


def test_it_reveals_only_over_post(client, staff):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["reviewer"])

    assert client.get(reverse("applications:identity_reveal", args=[borrower.pk])).status_code == 405
    assert not AuditEvent.objects.exists()


# --- product matching -------------------------------------------------------------------------------------------


def test_it_matches_every_active_product_with_reasons_and_payments(client, staff, product):
    make_product("SME", name_en="Business loan", name_zh="经营贷", borrower_kinds=["company"])
    make_product("OLD", name_en="Retired product", name_zh="旧产品", is_active=False)
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["officer"])

    response = client.get(
        reverse("applications:product_match", args=[borrower.pk]),
        {"amount": "100000", "term_months": "12", "method": "equal_installment", "purpose": "装修"},
    )

    page = response.content.decode()
    rows = {row["product"].code: row for row in response.context["results"]}
    assert set(rows) == {"CONSUMER", "SME"}
    assert rows["CONSUMER"]["match"].eligible
    assert rows["CONSUMER"]["match"].monthly_payment == Decimal("8530.99")
    assert "¥8,530.99" in page
    assert "35.10%" in page  # (2,000 + 8,530.99) / 30,000
    assert "This product is not offered to individuals." in page
    assert not rows["SME"]["apply_url"]
    apply_url = rows["CONSUMER"]["apply_url"]
    assert apply_url.startswith(reverse("applications:create", args=[borrower.pk, product.pk]))
    assert "amount=100000" in apply_url
    assert "term_months=12" in apply_url
    assert "method=equal_installment" in apply_url
    assert "Apply with this product" in page
    assert "Retired product" not in page


def test_it_gives_the_exact_reason_when_the_amount_is_too_high(client, staff, product):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["officer"])

    response = client.get(
        reverse("applications:product_match", args=[borrower.pk]), {"amount": "600000", "term_months": "12"}
    )

    assert "The amount is above this product&#x27;s maximum of ¥500,000.00." in response.content.decode()
    assert "Apply with this product" not in response.content.decode()


def test_it_refuses_matching_to_a_reviewer(client, staff, product):
    borrower = make_borrower(staff["officer"])
    client.force_login(staff["reviewer"])

    assert client.get(reverse("applications:product_match", args=[borrower.pk])).status_code == 403
