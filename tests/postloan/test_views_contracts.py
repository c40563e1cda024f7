"""From an approved application to a loan in the browser's terms: prepare and confirm the contract, record and confirm
the disbursement (maker-checker refusals shown as messages), and the list of what waits for confirmation."""

import re
from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from applications.models import Application
from postloan.models import Contract, Disbursement, Loan
from tests.applications.factories import RESIDENT_IDS

from .factories import approved_application, on, prepare_disbursement, prepared_contract, signed_contract

pytestmark = pytest.mark.django_db

CONFIRMATIONS_URL = reverse("postloan:confirmations")


@pytest.fixture(autouse=True)
def _english(staff):
    User.objects.update(preferred_language="en")


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def prepare_url(application) -> str:
    return reverse("postloan:contract_prepare", args=[application.pk])


def contract_url(contract, name: str = "postloan:contract_detail") -> str:
    return reverse(name, args=[contract.pk])


# --- the contract -------------------------------------------------------------------------------------------------
def test_it_offers_the_assigned_officer_to_prepare_the_contract_from_the_application(client, staff, product):
    with on(date(2026, 1, 8)):
        application = approved_application(staff)
        client.force_login(staff["officer"])
        page = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
        assert 'data-testid="prepare-contract"' in page and prepare_url(application) in page

        form = client.get(prepare_url(application))
        assert "¥120,000.00" in text(form) and "6.00%" in text(form)

        response = client.post(prepare_url(application), {"first_due_date": "2026-02-10"}, follow=True)

    contract = Contract.objects.get(application=application)
    assert response.redirect_chain[-1][0] == contract_url(contract)
    assert contract.status == "prepared" and contract.first_due_date == date(2026, 2, 10)
    assert f"Contract {contract.number} is prepared" in " ".join(messages_of(response))
    client.force_login(staff["manager"])
    page = client.get(reverse("applications:detail", args=[application.pk])).content.decode()
    assert 'data-testid="open-contract"' in page and 'data-testid="prepare-contract"' not in page


def test_it_shows_a_wrong_first_due_date_in_the_users_language_and_prepares_nothing(client, staff, product):
    with on(date(2026, 1, 8)):
        application = approved_application(staff)
        client.force_login(staff["officer"])
        response = client.post(prepare_url(application), {"first_due_date": "2026-01-08"})
        assert response.status_code == 400
        assert "The first due date must be after today." in text(response)

        User.objects.filter(pk=staff["officer"].pk).update(preferred_language="zh-hans")
        response = client.post(prepare_url(application), {"first_due_date": ""})
        assert response.status_code == 400
        assert "这个字段是必填项。" in response.content.decode()
    assert not Contract.objects.exists()


def test_it_refuses_the_contract_to_other_roles_and_branches(client, staff, product):
    with on(date(2026, 1, 8)):
        application = approved_application(staff)
        client.force_login(staff["manager"])
        assert client.get(prepare_url(application)).status_code == 403
        client.force_login(staff["other_officer"])
        assert client.get(prepare_url(application)).status_code == 404
        client.force_login(staff["officer2"])  # same branch, not the assigned officer: the service says why
        response = client.post(prepare_url(application), {"first_due_date": "2026-02-10"}, follow=True)
    assert "Only the assigned officer" in " ".join(messages_of(response))
    assert not Contract.objects.exists()


def test_it_lets_a_manager_but_not_the_preparer_confirm_the_contract(client, staff, product):
    with on(date(2026, 1, 8)):
        contract = prepared_contract(staff)
        client.force_login(staff["manager"])
        page = client.get(contract_url(contract))
        assert 'data-testid="confirm-contract"' in page.content.decode()
        assert "¥120,000.00" in text(page) and "9.00%" in text(page)

        response = client.post(contract_url(contract, "postloan:contract_confirm"), follow=True)

    contract.refresh_from_db()
    assert contract.status == "signed" and contract.confirmed_by == staff["manager"]
    assert Application.objects.get(pk=contract.application_id).status == "contracted"
    assert "is signed" in " ".join(messages_of(response))


def test_it_shows_the_maker_checker_refusal_as_a_message(client, staff, product, make_user, branches):
    # Someone who is both officer and approver prepares and then tries to confirm their own contract.
    both = make_user("two_hats", "officer", "approver", branch=branches["BJ"], preferred_language="en")
    with on(date(2026, 1, 8)):
        application = approved_application(staff)
        Application.objects.filter(pk=application.pk).update(officer=both)
        client.force_login(both)
        client.post(prepare_url(application), {"first_due_date": "2026-02-10"})
        contract = Contract.objects.get()
        response = client.post(contract_url(contract, "postloan:contract_confirm"), follow=True)

    assert response.status_code == 200
    assert "another colleague must review or confirm it" in " ".join(messages_of(response))
    assert Contract.objects.get().status == "prepared"


def test_it_refuses_confirmation_to_an_officer_and_another_branch(client, staff, product):
    with on(date(2026, 1, 8)):
        contract = prepared_contract(staff)
    client.force_login(staff["officer2"])
    assert client.post(contract_url(contract, "postloan:contract_confirm")).status_code == 403
    client.force_login(staff["other_manager"])
    assert client.post(contract_url(contract, "postloan:contract_confirm")).status_code == 404
    assert client.get(contract_url(contract)).status_code == 404
    assert Contract.objects.get().status == "prepared"


# --- the disbursement ---------------------------------------------------------------------------------------------
DISBURSEMENT = {
    "amount": "120000.00",
    "disbursed_on": "2026-01-10",
    "bank_name": "中国工商银行北京朝阳支行",
    "account_number": "6222 0212 3456 7890 123",
    "bank_reference": "ICBC-20260110-0001",
}


def test_it_records_the_disbursement_and_shows_the_account_masked(client, staff, product):
    with on(date(2026, 1, 8)):
        contract = signed_contract(staff)
    client.force_login(staff["officer"])
    with on(date(2026, 1, 10)):
        assert 'data-testid="prepare-disbursement"' in client.get(contract_url(contract)).content.decode()
        response = client.post(contract_url(contract, "postloan:disbursement_prepare"), DISBURSEMENT, follow=True)

    disbursement = Disbursement.objects.get()
    assert disbursement.status == "prepared" and disbursement.prepared_by == staff["officer"]
    content = response.content.decode()
    assert "**** 0123" in content and "6222021234567890123" not in content and "6222 0212" not in content


def test_it_refuses_a_wrong_amount_or_date_and_records_nothing(client, staff, product):
    with on(date(2026, 1, 8)):
        contract = signed_contract(staff)
    client.force_login(staff["officer"])
    with on(date(2026, 1, 10)):
        response = client.post(
            contract_url(contract, "postloan:disbursement_prepare"), DISBURSEMENT | {"amount": "100000.00"}
        )
        assert response.status_code == 400
        assert "The disbursed amount must equal the contract amount, ¥120,000.00." in text(response)
        response = client.post(
            contract_url(contract, "postloan:disbursement_prepare"), DISBURSEMENT | {"disbursed_on": "2026-01-11"}
        )
        assert response.status_code == 400
        assert "The disbursement date cannot be in the future." in text(response)
    assert not Disbursement.objects.exists()


def test_it_starts_the_loan_when_another_person_confirms_the_disbursement(client, staff, product):
    with on(date(2026, 1, 8)):
        contract = signed_contract(staff)
    with on(date(2026, 1, 10)):
        prepare_disbursement(staff, contract)
        client.force_login(staff["approver"])
        response = client.post(contract_url(contract, "postloan:disbursement_confirm"))
        page = client.get(contract_url(contract)).content.decode()

    loan = Loan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("postloan:detail", args=[loan.pk])
    assert loan.principal == contract.amount and loan.status == "active"
    assert 'data-testid="loan-link"' in page


def test_it_does_not_let_the_preparer_confirm_their_own_disbursement(client, staff, product, make_user, branches):
    both = make_user("two_hats", "officer", "manager", branch=branches["BJ"], preferred_language="en")
    with on(date(2026, 1, 8)):
        contract = signed_contract(staff)
    with on(date(2026, 1, 10)):
        client.force_login(both)
        client.post(contract_url(contract, "postloan:disbursement_prepare"), DISBURSEMENT)
        response = client.post(contract_url(contract, "postloan:disbursement_confirm"), follow=True)

    assert "another colleague must review or confirm it" in " ".join(messages_of(response))
    assert not Loan.objects.exists()
    assert Disbursement.objects.get().status == "prepared"


# --- waiting for confirmation -------------------------------------------------------------------------------------
def test_it_lists_what_waits_for_confirmation_in_the_branch(client, staff, product):
    with on(date(2026, 1, 8)):
        waiting = prepared_contract(staff)
        signed = signed_contract(staff, identity=RESIDENT_IDS[1])
    with on(date(2026, 1, 10)):
        prepare_disbursement(staff, signed)
    client.force_login(staff["approver"])

    response = client.get(CONFIRMATIONS_URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert f'data-testid="contract-{waiting.number}"' in content
    assert f'data-testid="disbursement-{signed.number}"' in content
    assert f'data-testid="contract-{signed.number}"' not in content
    assert "Waiting for your confirmation (2)" in text(response)
    client.force_login(staff["other_manager"])
    assert "No contract is waiting." in text(client.get(CONFIRMATIONS_URL))
    client.force_login(staff["officer"])
    assert client.get(CONFIRMATIONS_URL).status_code == 403
