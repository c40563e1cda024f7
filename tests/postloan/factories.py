"""Building blocks for post-loan tests: an approved application, a contract and a disbursed loan, made through the
services with the calendar frozen on the days the story needs."""

from datetime import date, datetime
from decimal import Decimal

import time_machine

from applications import services as application_services
from applications.models import Application
from core.dates import SHANGHAI
from postloan import services
from postloan.models import Contract, Installment, Loan, Repayment
from postloan.services.common import past_due_amount
from tests.applications.factories import RESIDENT_IDS, in_secondary_review, make_borrower

SIGNED_ON = date(2026, 1, 8)
DISBURSED_ON = date(2026, 1, 10)
FIRST_DUE = date(2026, 2, 10)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def on(day: date, hour: int = 10):
    """Freeze the clock on a day in Shanghai (10:00 unless told)."""
    return time_machine.travel(at(day, hour), tick=False)


def approved_application(
    staff,
    *,
    amount: str = "120000.00",
    annual_rate: str = "6.0000",
    term_months: int = 12,
    method: str = "equal_principal",
    identity: str = RESIDENT_IDS[0],
) -> Application:
    officer = staff["officer"]
    borrower = make_borrower(officer, number=identity)
    application = in_secondary_review(
        officer,
        staff["reviewer"],
        borrower=borrower,
        amount=amount,
        annual_rate=Decimal(annual_rate),
        term_months=term_months,
        method=method,
    )
    application_services.application_review_secondary(
        application=application, by=staff["approver"], decision="approve", comment="同意"
    )
    return Application.objects.get(pk=application.pk)


def prepared_contract(staff, *, first_due_date: date = FIRST_DUE, **terms) -> Contract:
    application = approved_application(staff, **terms)
    return services.contract_prepare(application=application, by=staff["officer"], first_due_date=first_due_date)


def signed_contract(staff, *, first_due_date: date = FIRST_DUE, **terms) -> Contract:
    contract = prepared_contract(staff, first_due_date=first_due_date, **terms)
    services.contract_confirm(contract=contract, by=staff["manager"])
    return Contract.objects.get(pk=contract.pk)


def prepare_disbursement(staff, contract: Contract, *, disbursed_on: date = DISBURSED_ON, reference: str = ""):
    return services.disbursement_prepare(
        contract=contract,
        by=staff["officer"],
        disbursed_on=disbursed_on,
        bank_name="中国工商银行北京朝阳支行",
        account_number="6222 0212 3456 7890 123",
        bank_reference=reference or f"DISB-{contract.number}",
    )


def disbursed_loan(
    staff,
    *,
    signed_on: date = SIGNED_ON,
    disbursed_on: date = DISBURSED_ON,
    first_due_date: date = FIRST_DUE,
    **terms,
) -> Loan:
    """A loan as the checker leaves it: contract signed on `signed_on`, money out on `disbursed_on`."""
    with on(signed_on):
        contract = signed_contract(staff, first_due_date=first_due_date, **terms)
    with on(disbursed_on):
        disbursement = prepare_disbursement(staff, contract, disbursed_on=disbursed_on)
        return services.disbursement_confirm(disbursement=disbursement, by=staff["manager"])


def post(loan: Loan, amount: str, *, paid_on: date, reference: str, by, **kwargs) -> Repayment:
    return services.repayment_post(
        loan=loan,
        amount=Decimal(amount),
        paid_on=paid_on,
        reference=reference,
        channel=kwargs.pop("channel", "bank_transfer"),
        by=by,
        **kwargs,
    )


def installments(loan: Loan) -> list[Installment]:
    return list(Loan.objects.get(pk=loan.pk).current_installments())


def paid_columns(loan: Loan) -> list[tuple]:
    """(number, penalty paid, interest paid, principal paid, status) of every installment that received money."""
    return [
        (item.number, str(item.penalty_paid), str(item.interest_paid), str(item.principal_paid), item.status)
        for item in installments(loan)
        if item.total_paid or item.status != "pending"
    ]


def set_penalty(loan: Loan, number: int, amount: str) -> None:
    """What the daily sweep (a later issue) would have accrued on an installment, set directly."""
    updated = Installment.objects.filter(loan=loan, number=number).update(penalty_accrued=Decimal(amount))
    assert updated == 1


def mark_overdue(loan: Loan, *, today: date, **columns) -> None:
    """Set a loan's columns (status overdue, plus `columns`) as the daily sweep of `today` would have left them, with
    what is past due computed from its installments by the sweep's own rule."""
    owed = past_due_amount(Loan.objects.get(pk=loan.pk).current_installments(), today)
    Loan.objects.filter(pk=loan.pk).update(status="overdue", past_due_amount=owed, **columns)
