"""The contract: prepared from the approved terms by the assigned officer, signed by a different person."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from applications.models import Application, ApplicationEvent
from postloan import services
from postloan.models import Contract, TransitionError

from .factories import SIGNED_ON, approved_application, on, prepared_contract

pytestmark = pytest.mark.django_db


def reload(contract: Contract) -> Contract:
    return Contract.objects.get(pk=contract.pk)


def test_it_prepares_the_contract_on_the_approved_terms(staff, product):
    with on(SIGNED_ON):
        application = approved_application(staff, amount="150000.00", annual_rate="7.2000", term_months=24)
        contract = services.contract_prepare(
            application=application, by=staff["officer"], first_due_date=date(2026, 2, 8)
        )

    assert contract.number == "HT2026000001"
    assert (contract.amount, contract.annual_rate, contract.term_months, contract.method) == (
        Decimal("150000.00"),
        Decimal("7.2000"),
        24,
        "equal_principal",
    )
    assert contract.penalty_rate == Decimal("10.8000")  # no product penalty rate: the contract rate × 1.5
    assert (contract.repayment_day, contract.maturity_date) == (8, date(2028, 1, 8))
    assert (contract.borrower, contract.branch, contract.officer) == (
        application.borrower,
        application.branch,
        application.officer,
    )
    assert contract.status == "prepared"
    assert contract.prepared_by == staff["officer"]
    assert Application.objects.get(pk=application.pk).status == "approved"


def test_it_snapshots_parties_and_collateral_at_preparation(staff, product):
    with on(SIGNED_ON):
        officer = staff["officer"]
        application = approved_application(staff)
        # Parties and collateral can only be added while the application is editable: write them as it had them.
        guarantor = application.parties.create(role="guarantor", name="王强", mobile="13900001111", relationship="兄")
        application.collateral.create(
            kind="vehicle", description="京A12345 小客车", estimated_value=Decimal("80000.00"), custodian=guarantor
        )
        contract = services.contract_prepare(application=application, by=officer, first_due_date=date(2026, 2, 10))
        guarantor.name = "改名"
        guarantor.save()

    contract = reload(contract)
    assert contract.parties == [
        {"role": "guarantor", "name": "王强", "relationship": "兄", "mobile": "13900001111", "address": ""}
    ]
    assert contract.collateral == [
        {"kind": "vehicle", "description": "京A12345 小客车", "estimated_value": "80000.00", "custodian": "王强"}
    ]


def test_it_uses_the_products_penalty_rate_when_it_has_one(staff, product):
    product.penalty_rate = Decimal("18.0000")
    product.save()
    with on(SIGNED_ON):
        contract = prepared_contract(staff)

    assert contract.penalty_rate == Decimal("18.0000")


def test_it_refuses_a_contract_for_an_application_that_is_not_approved(staff, product):
    with on(SIGNED_ON):
        application = approved_application(staff)
        Application.objects.filter(pk=application.pk).update(status="secondary_review")
        application.refresh_from_db()
        with pytest.raises(TransitionError, match="only for an approved application"):
            services.contract_prepare(application=application, by=staff["officer"], first_due_date=date(2026, 2, 10))

    assert not Contract.objects.exists()


def test_it_refuses_an_expired_approval(staff, product):
    with on(SIGNED_ON):
        application = approved_application(staff)
    with on(date(2026, 2, 20)), pytest.raises(TransitionError, match="approval expired"):
        services.contract_prepare(application=application, by=staff["officer"], first_due_date=date(2026, 3, 10))


@pytest.mark.parametrize(
    ("first_due_date", "message"),
    [(SIGNED_ON, "after today"), (date(2026, 3, 9), "within two months")],
)
def test_it_refuses_a_first_due_date_out_of_range(staff, product, first_due_date, message):
    with on(SIGNED_ON):
        application = approved_application(staff)
        with pytest.raises(ValidationError, match=message):
            services.contract_prepare(application=application, by=staff["officer"], first_due_date=first_due_date)


def test_it_lets_only_the_assigned_officer_prepare(staff, product):
    with on(SIGNED_ON):
        application = approved_application(staff)
        for who, message in [
            ("officer2", "Only the assigned officer"),
            ("manager", "Your role does not allow this"),
            ("other_officer", "another branch"),
        ]:
            with pytest.raises(PermissionDenied, match=message):
                services.contract_prepare(application=application, by=staff[who], first_due_date=date(2026, 2, 10))

    assert not Contract.objects.exists()


def test_it_refuses_a_second_contract_for_one_application(staff, product):
    with on(SIGNED_ON):
        contract = prepared_contract(staff)
        with pytest.raises(TransitionError, match=f"Contract {contract.number} has already been prepared"):
            services.contract_prepare(
                application=contract.application, by=staff["officer"], first_due_date=date(2026, 2, 10)
            )

    assert Contract.objects.count() == 1


def test_it_refuses_the_preparer_to_confirm_their_own_contract(staff, product):
    with on(SIGNED_ON):
        contract = prepared_contract(staff)
        # The preparer gets the confirming role too: maker-checker still refuses.
        staff["officer"].groups.add(*staff["manager"].groups.all())
        staff["officer"]._loantrack_roles = None
        with pytest.raises(PermissionDenied, match="another colleague must"):
            services.contract_confirm(contract=contract, by=staff["officer"])

    assert reload(contract).status == "prepared"
    assert Application.objects.get(pk=contract.application_id).status == "approved"


def test_it_refuses_roles_and_branches_that_may_not_confirm(staff, product):
    with on(SIGNED_ON):
        contract = prepared_contract(staff)
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            services.contract_confirm(contract=contract, by=staff["officer2"])
        with pytest.raises(PermissionDenied, match="another branch"):
            services.contract_confirm(contract=contract, by=staff["other_manager"])

    assert reload(contract).status == "prepared"


def test_it_signs_the_contract_and_marks_the_application_contracted(staff, product):
    with on(SIGNED_ON):
        contract = prepared_contract(staff)
        services.contract_confirm(contract=contract, by=staff["approver"])

    contract = reload(contract)
    assert contract.status == "signed"
    assert contract.confirmed_by == staff["approver"]
    application = Application.objects.get(pk=contract.application_id)
    assert application.status == "contracted"
    assert application.expires_at is None
    event = ApplicationEvent.objects.filter(application=application).latest("created_at", "pk")
    assert (event.from_status, event.to_status, event.actor) == ("approved", "contracted", staff["approver"])
    assert [h.status for h in contract.history.order_by("history_date", "history_id")] == ["prepared", "signed"]


def test_it_refuses_to_sign_a_contract_twice(staff, product):
    with on(SIGNED_ON):
        contract = prepared_contract(staff)
        stale = reload(contract)
        services.contract_confirm(contract=contract, by=staff["manager"])
        with pytest.raises(TransitionError, match="Someone else has just changed this contract"):
            services.contract_confirm(contract=stale, by=staff["approver"])
        with pytest.raises(TransitionError, match="“Signed”"):
            services.contract_confirm(contract=reload(contract), by=staff["approver"])

    assert reload(contract).confirmed_by == staff["manager"]
