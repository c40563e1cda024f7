"""Disbursement: recorded by one person, confirmed by another; the loan starts with exactly the computed schedule."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from applications.models import Application
from core.schedules import ScheduleMethod, build_schedule
from postloan import services
from postloan.models import Disbursement, Installment, Loan, LoanEvent, ScheduleVersion, TransitionError
from postloan.signals import loan_disbursed

from .factories import (
    DISBURSED_ON,
    FIRST_DUE,
    SIGNED_ON,
    disbursed_loan,
    installments,
    on,
    prepare_disbursement,
    prepared_contract,
    signed_contract,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def disbursed_signals():
    """Every loan_disbursed received, as loan ids."""
    received = []

    def receiver(sender, loan_id, **kwargs):
        received.append(loan_id)

    loan_disbursed.connect(receiver, dispatch_uid="test_disbursements_receiver")
    yield received
    loan_disbursed.disconnect(dispatch_uid="test_disbursements_receiver")


@pytest.mark.parametrize("method", ScheduleMethod.values)
def test_it_persists_installments_equal_to_build_schedule(staff, product, method):
    loan = disbursed_loan(
        staff, method=method, amount="100000.00", annual_rate="4.3500", term_months=7, first_due_date=date(2026, 1, 31)
    )

    expected = build_schedule(
        principal=Decimal("100000.00"),
        annual_rate=Decimal("4.3500"),
        term_months=7,
        method=method,
        first_due_date=date(2026, 1, 31),
    )
    rows = installments(loan)
    assert [(i.number, i.due_date, i.principal_due, i.interest_due) for i in rows] == [
        (row.number, row.due_date, row.principal, row.interest) for row in expected
    ]
    assert [i.total_due for i in rows] == [row.total for row in expected]
    assert all(i.status == "pending" and i.total_paid == 0 for i in rows)
    assert {i.version.version for i in rows} == {1}
    assert loan.maturity_date == expected[-1].due_date
    assert (loan.next_due_date, loan.next_due_amount) == (expected[0].due_date, expected[0].total)


def test_it_starts_the_loan_from_the_contract(staff, product, disbursed_signals, django_capture_on_commit_callbacks):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    with on(DISBURSED_ON):
        disbursement = prepare_disbursement(staff, contract)
        with django_capture_on_commit_callbacks(execute=True):
            loan = services.disbursement_confirm(disbursement=disbursement, by=staff["approver"])

    loan = Loan.objects.get(pk=loan.pk)
    assert loan.number == contract.number
    assert (loan.principal, loan.outstanding_principal, loan.annual_rate, loan.penalty_rate) == (
        Decimal("120000.00"),
        Decimal("120000.00"),
        Decimal("6.0000"),
        Decimal("9.0000"),
    )
    assert (loan.status, loan.dpd, loan.bucket, loan.classification) == ("active", 0, "current", "normal")
    assert (loan.disbursed_on, loan.maturity_date) == (DISBURSED_ON, date(2027, 1, 10))
    assert (loan.next_due_date, loan.next_due_amount) == (FIRST_DUE, Decimal("10600.00"))
    assert (loan.credit_balance, loan.current_version) == (Decimal("0.00"), 1)
    assert (loan.borrower_id, loan.branch_id, loan.officer_id, loan.product_id) == (
        contract.borrower_id,
        contract.branch_id,
        contract.officer_id,
        Application.objects.get(pk=contract.application_id).product_id,  # kept on the loan for its lists
    )
    version = ScheduleVersion.objects.get(loan=loan)
    assert (version.version, version.reason, version.created_by) == (1, "disbursement", staff["approver"])
    assert Application.objects.get(pk=contract.application_id).status == "disbursed"
    disbursement.refresh_from_db()
    assert (disbursement.status, disbursement.confirmed_by) == ("confirmed", staff["approver"])
    assert list(LoanEvent.objects.filter(loan=loan).values_list("kind", flat=True)) == ["disbursed"]
    assert disbursed_signals == [loan.pk]


def test_it_sends_loan_disbursed_only_after_commit(
    staff, product, disbursed_signals, django_capture_on_commit_callbacks
):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    with on(DISBURSED_ON):
        disbursement = prepare_disbursement(staff, contract)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            loan = services.disbursement_confirm(disbursement=disbursement, by=staff["manager"])

        assert disbursed_signals == []  # the transaction has not committed yet
        for callback in callbacks:
            callback()
    assert disbursed_signals == [loan.pk]


def test_it_sends_nothing_when_the_disbursement_rolls_back(staff, product, disbursed_signals, monkeypatch):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    with on(DISBURSED_ON):
        disbursement = prepare_disbursement(staff, contract)

        def fail(self, *, by):
            raise TransitionError("the application changed meanwhile")

        monkeypatch.setattr(Application, "mark_disbursed", fail)
        with pytest.raises(TransitionError):
            services.disbursement_confirm(disbursement=disbursement, by=staff["manager"])

    assert not Loan.objects.exists()
    assert not Installment.objects.exists()
    assert Disbursement.objects.get().status == "prepared"
    assert disbursed_signals == []


def test_it_keeps_the_account_number_encrypted_and_shows_it_masked(staff, product):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    with on(DISBURSED_ON):
        disbursement = prepare_disbursement(staff, contract)

    assert disbursement.account_masked == "**** 0123"
    assert Disbursement.objects.get().account_number == "6222021234567890123"
    with connection.cursor() as cursor:
        cursor.execute("SELECT account_number FROM postloan_disbursement")
        (stored,) = cursor.fetchone()
    assert "6222021234567890123" not in stored
    assert not hasattr(disbursement.history.model, "account_number")
    assert disbursement.amount == contract.amount


def test_it_refuses_the_preparer_to_confirm_the_disbursement(staff, product):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    staff["officer"].groups.add(*staff["manager"].groups.all())
    staff["officer"]._loantrack_roles = None
    with on(DISBURSED_ON):
        disbursement = prepare_disbursement(staff, contract)
        with pytest.raises(PermissionDenied, match="another colleague must"):
            services.disbursement_confirm(disbursement=disbursement, by=staff["officer"])
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            services.disbursement_confirm(disbursement=disbursement, by=staff["officer2"])

    assert not Loan.objects.exists()
    assert Disbursement.objects.get().status == "prepared"
    assert Application.objects.get(pk=contract.application_id).status == "contracted"


def test_it_refuses_to_disburse_a_contract_twice(staff, product):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    with on(DISBURSED_ON):
        disbursement = prepare_disbursement(staff, contract)
        with pytest.raises(TransitionError, match="has already been recorded"):
            prepare_disbursement(staff, contract, reference="ANOTHER-REF")
        stale = Disbursement.objects.get(pk=disbursement.pk)
        services.disbursement_confirm(disbursement=disbursement, by=staff["manager"])
        with pytest.raises(TransitionError, match="Someone else has just confirmed"):
            services.disbursement_confirm(disbursement=stale, by=staff["approver"])
        with pytest.raises(TransitionError, match="already been confirmed"):
            services.disbursement_confirm(disbursement=Disbursement.objects.get(), by=staff["approver"])

    assert Loan.objects.count() == 1
    assert Installment.objects.count() == 12


def test_it_refuses_to_disburse_an_unsigned_contract(staff, product):
    with on(SIGNED_ON):
        contract = prepared_contract(staff)
        with pytest.raises(TransitionError, match="only on a signed contract"):
            prepare_disbursement(staff, contract, disbursed_on=SIGNED_ON)

    assert not Disbursement.objects.exists()


@pytest.mark.parametrize(
    ("disbursed_on", "message"),
    [
        (date(2026, 1, 7), "before the contract was signed"),
        (date(2026, 1, 11), "cannot be in the future"),
    ],
)
def test_it_refuses_a_disbursement_date_out_of_range(staff, product, disbursed_on, message):
    with on(SIGNED_ON):
        contract = signed_contract(staff)
    with on(DISBURSED_ON), pytest.raises(ValidationError, match=message):
        prepare_disbursement(staff, contract, disbursed_on=disbursed_on)


def test_it_refuses_a_disbursement_on_or_after_the_first_due_date(staff, product):
    with on(SIGNED_ON):
        contract = signed_contract(staff, first_due_date=date(2026, 1, 20))
    with on(date(2026, 1, 25)), pytest.raises(ValidationError, match="before the first due date"):
        prepare_disbursement(staff, contract, disbursed_on=date(2026, 1, 20))


def test_it_refuses_a_bank_reference_already_used_and_a_bad_account_number(staff, product):
    loan = disbursed_loan(staff)
    with on(SIGNED_ON):
        contract = signed_contract(staff, amount="50000.00")
    with on(DISBURSED_ON):
        with pytest.raises(ValidationError, match="already recorded for another transfer"):
            prepare_disbursement(staff, contract, reference=f"DISB-{loan.number}")
        with pytest.raises(ValidationError, match="8 to 30 digits"):
            services.disbursement_prepare(
                contract=contract,
                by=staff["officer"],
                disbursed_on=DISBURSED_ON,
                bank_name="工商银行",
                account_number="6222-abc",
                bank_reference="NEW-REF",
            )

    assert Disbursement.objects.count() == 1
