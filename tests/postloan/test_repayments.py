"""Posting repayments: allocation worked by hand, idempotent references, overpayment kept as credit, the preview.

The loan of every test: ¥120,000.00 at 6 % a year, equal principal over 12 months, disbursed 10 Jan 2026, due on the
10th from 10 Feb. Monthly rate 0.5 %: installment 1 is 10,000.00 principal + 600.00 interest, installment 2
10,000.00 + 550.00, installment 3 10,000.00 + 500.00, and so on.
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from postloan import services
from postloan.models import Allocation, Installment, Loan, LoanEvent, Repayment, TransitionError

from .factories import disbursed_loan, installments, on, paid_columns, post, set_penalty

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


def active_rows(loan: Loan) -> list[tuple]:
    return [
        (
            row.repayment.reference,
            row.installment.number if row.installment else None,
            *(str(v) for v in (row.penalty, row.interest, row.principal, row.to_credit)),
        )
        for row in Allocation.objects.filter(loan=loan, is_active=True).select_related("repayment", "installment")
    ]


def test_it_allocates_a_partial_payment_across_two_overdue_installments(loan, staff):
    set_penalty(loan, 1, "45.00")
    set_penalty(loan, 2, "5.00")

    with on(date(2026, 3, 20)):
        repayment = post(loan, "10700.00", paid_on=date(2026, 3, 20), reference="BANK-0001", by=staff["officer"])

    # 10,700.00 = installment 1 in full (45.00 + 600.00 + 10,000.00 = 10,645.00), then 55.00 on installment 2:
    # its 5.00 penalty, then 50.00 of its 550.00 interest; nothing of its principal, nothing on installment 3.
    assert active_rows(loan) == [
        ("BANK-0001", 1, "45.00", "600.00", "10000.00", "0.00"),
        ("BANK-0001", 2, "5.00", "50.00", "0.00", "0.00"),
    ]
    first, second, third = installments(loan)[:3]
    assert (first.status, first.paid_on, first.outstanding) == ("paid", date(2026, 3, 20), D("0.00"))
    assert (second.status, second.paid_on, second.outstanding) == ("partial", None, D("10500.00"))
    assert (third.status, third.total_paid) == ("pending", D("0.00"))
    loan.refresh_from_db()
    assert loan.outstanding_principal == D("110000.00")
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 3, 10), D("10500.00"))
    assert (repayment.amount, repayment.kind, repayment.posted_by) == (D("10700.00"), "regular", staff["officer"])
    event = LoanEvent.objects.get(loan=loan, kind="repayment")
    assert event.data | {"repayment": None} == {
        "repayment": None,
        "reference": "BANK-0001",
        "amount": "10700.00",
        "paid_on": "2026-03-20",
        "penalty": "50.00",
        "interest": "650.00",
        "principal": "10000.00",
        "to_credit": "0.00",
    }


def test_it_cures_an_overdue_loan_once_nothing_is_past_due(loan, staff):
    Loan.objects.filter(pk=loan.pk).update(status="overdue", overdue_since=date(2026, 2, 11), dpd=38, bucket="31_60")

    with on(date(2026, 3, 20)):
        post(loan, "10600.00", paid_on=date(2026, 3, 20), reference="PART", by=staff["officer"])
        loan.refresh_from_db()
        assert (loan.status, loan.dpd, loan.bucket, loan.overdue_since) == ("overdue", 10, "1_30", date(2026, 2, 11))

        post(loan, "10550.00", paid_on=date(2026, 3, 20), reference="REST", by=staff["officer"])

    loan.refresh_from_db()
    assert (loan.status, loan.dpd, loan.bucket, loan.overdue_since) == ("active", 0, "current", None)
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 4, 10), D("10500.00"))
    assert LoanEvent.objects.filter(loan=loan, kind="cured").count() == 1


def test_it_returns_the_same_repayment_for_a_repeated_reference(loan, staff):
    with on(date(2026, 2, 5)):
        first = post(
            loan, "5000.00", paid_on=date(2026, 2, 5), reference="WX-8899", by=staff["officer"], channel="wechat"
        )
        before = paid_columns(loan)
        again = post(loan, "5000.00", paid_on=date(2026, 2, 5), reference=" WX-8899 ", by=staff["officer2"])

    assert again.pk == first.pk
    assert Repayment.objects.count() == 1
    assert Allocation.objects.count() == 1
    assert paid_columns(loan) == before == [(1, "0.00", "600.00", "4400.00", "partial")]
    assert LoanEvent.objects.filter(kind="repayment").count() == 1


def test_it_refuses_a_reference_used_on_another_loan_or_for_another_amount(loan, staff):
    other = disbursed_loan(staff, amount="50000.00")
    with on(date(2026, 2, 5)):
        post(loan, "5000.00", paid_on=date(2026, 2, 5), reference="BANK-1", by=staff["officer"])
        with pytest.raises(ValidationError, match=f"already used for loan {loan.number}"):
            post(other, "5000.00", paid_on=date(2026, 2, 5), reference="BANK-1", by=staff["officer"])
        with pytest.raises(ValidationError, match=re.escape("already posted for ¥5,000.00 on")):
            post(loan, "500.00", paid_on=date(2026, 2, 5), reference="BANK-1", by=staff["officer"])

    assert Repayment.objects.count() == 1
    assert installments(other)[0].total_paid == 0


def test_it_keeps_an_overpayment_as_credit_and_uses_it_first_next_time(loan, staff):
    with on(date(2026, 1, 20)):
        post(loan, "10700.00", paid_on=date(2026, 1, 20), reference="OVER", by=staff["officer"])
    loan.refresh_from_db()
    # Before 10 Feb only installment 1 is payable: 10,600.00; the other 100.00 is kept as credit.
    assert loan.credit_balance == D("100.00")
    assert active_rows(loan) == [
        ("OVER", 1, "0.00", "600.00", "10000.00", "0.00"),
        ("OVER", None, "0.00", "0.00", "0.00", "100.00"),
    ]
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 3, 10), D("10550.00"))

    with on(date(2026, 2, 15)):
        post(loan, "10450.00", paid_on=date(2026, 2, 15), reference="NEXT", by=staff["officer"])

    loan.refresh_from_db()
    assert loan.credit_balance == D("0.00")
    assert active_rows(loan)[2:] == [
        ("NEXT", 2, "0.00", "550.00", "10000.00", "0.00"),
        ("NEXT", None, "0.00", "0.00", "0.00", "-100.00"),
    ]
    assert [item.status for item in installments(loan)[:3]] == ["paid", "paid", "pending"]


def test_it_refuses_an_overpayment_when_asked_to(loan, staff):
    with on(date(2026, 1, 20)), pytest.raises(ValidationError, match=re.escape("At most ¥10,600.00 is payable now")):
        post(loan, "10700.00", paid_on=date(2026, 1, 20), reference="OVER", by=staff["officer"], overpayment="refuse")

    assert not Repayment.objects.exists()


def test_it_previews_the_allocation_without_writing_anything(loan, staff):
    set_penalty(loan, 1, "45.00")
    with on(date(2026, 3, 20)):
        plan, prepayment = services.repayment_preview(loan=loan, amount="10700.00", paid_on=date(2026, 3, 20))
        assert prepayment is None  # the overpayment is kept as credit unless a prepayment option is asked for
        assert not Repayment.objects.exists()
        post(loan, "10700.00", paid_on=date(2026, 3, 20), reference="AFTER-PREVIEW", by=staff["officer"])

    assert [(line.number, line.penalty, line.interest, line.principal) for line in plan.lines] == [
        (1, D("45.00"), D("600.00"), D("10000.00")),
        (2, D("0.00"), D("55.00"), D("0.00")),
    ]
    assert [row[1:5] for row in active_rows(loan)] == [
        (1, "45.00", "600.00", "10000.00"),
        (2, "0.00", "55.00", "0.00"),
    ]


def test_it_pays_off_the_loan_when_the_last_installment_is_paid(staff, product):
    loan = disbursed_loan(staff, amount="12000.00", term_months=6, method="interest_first", annual_rate="12.0000")
    # 12,000.00 at 1 % a month: 120.00 interest on each of 6 due dates, all principal on the last (10 Jul 2026).
    with on(date(2026, 7, 10)):
        repayment = post(loan, "12720.00", paid_on=date(2026, 7, 10), reference="ALL", by=staff["officer"])

    loan.refresh_from_db()
    assert (loan.status, loan.paid_off_on, loan.outstanding_principal) == ("paid_off", date(2026, 7, 10), D("0.00"))
    assert (loan.next_due_date, loan.next_due_amount) == (None, D("0.00"))
    assert all(item.status == "paid" for item in installments(loan))
    assert repayment.amount == sum(row.total for row in Allocation.objects.filter(repayment=repayment))
    with on(date(2026, 7, 11)), pytest.raises(TransitionError, match="only on an active or overdue loan"):
        post(loan, "1.00", paid_on=date(2026, 7, 11), reference="LATE", by=staff["officer"])


@pytest.mark.parametrize(
    ("amount", "paid_on", "message"),
    [
        ("0", date(2026, 2, 1), "greater than zero"),
        ("1.001", date(2026, 2, 1), "at most two decimals"),
        ("abc", date(2026, 2, 1), "Enter an amount"),
        ("100.00", date(2026, 1, 9), "before the disbursement"),
        ("100.00", date(2026, 2, 2), "cannot be dated in the future"),
    ],
)
def test_it_refuses_bad_input(loan, staff, amount, paid_on, message):
    with on(date(2026, 2, 1)), pytest.raises(ValidationError, match=message):
        services.repayment_post(
            loan=loan, amount=amount, paid_on=paid_on, reference="R", channel="cash", by=staff["officer"]
        )

    assert not Repayment.objects.exists()


def test_it_lets_only_officers_of_the_branch_post(loan, staff):
    with on(date(2026, 2, 1)):
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            post(loan, "100.00", paid_on=date(2026, 2, 1), reference="R1", by=staff["manager"])
        with pytest.raises(PermissionDenied, match="another branch"):
            post(loan, "100.00", paid_on=date(2026, 2, 1), reference="R1", by=staff["other_officer"])

    assert not Repayment.objects.exists()


def test_it_records_who_changed_each_installment_in_its_history(loan, staff):
    # One installment changed takes a plain UPDATE, two take bulk_update: both record the poster in the history.
    with on(date(2026, 3, 20)):
        post(loan, "100.00", paid_on=date(2026, 3, 20), reference="BANK-0001", by=staff["officer"])
        post(loan, "11000.00", paid_on=date(2026, 3, 20), reference="BANK-0002", by=staff["officer"])

    first, second = installments(loan)[:2]
    changes = [
        (row.number, str(row.interest_paid), str(row.principal_paid), row.history_type, row.history_user)
        for row in Installment.history.filter(id__in=[first.pk, second.pk], history_type="~").order_by("history_id")
    ]
    assert changes == [
        (1, "100.00", "0.00", "~", staff["officer"]),
        (1, "600.00", "10000.00", "~", staff["officer"]),
        (2, "500.00", "0.00", "~", staff["officer"]),
    ]
    assert (first.status, second.interest_paid, second.principal_paid) == ("paid", D("500.00"), D("0.00"))
