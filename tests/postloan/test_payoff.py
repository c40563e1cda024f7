"""Payoff (提前结清): the quote worked by hand, and the payoff that closes the loan.

The loan: ¥120,000.00 at 6 % a year, equal principal over 12 months, disbursed 10 Jan 2026, due on the 10th from
10 Feb (installment 1: 10,000.00 + 600.00 interest, installment 2: 10,000.00 + 550.00, installment 3: 10,000.00 +
500.00, … installment 12: 10,000.00 + 50.00).
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from postloan import services
from postloan.models import Allocation, Loan, LoanEvent, Repayment, TransitionError

from .factories import disbursed_loan, installments, on, post, set_penalty

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


def test_it_quotes_a_payoff_worked_by_hand(loan):
    set_penalty(loan, 1, "22.50")

    quote = services.payoff_quote(loan=loan, on_date=date(2026, 2, 25))

    # Installment 1 (due 10 Feb) is unpaid: its 10,000.00 principal and 600.00 interest are overdue, with 22.50
    # penalty. The current period runs from 10 Feb to 25 Feb, 15 days, on the 110,000.00 not yet due:
    # 110,000.00 × 6 % × 15 / 360 = 275.00 (installment 2's scheduled 550.00 is the cap).
    assert quote.principal == D("120000.00")
    assert (quote.overdue_principal, quote.overdue_interest) == (D("10000.00"), D("600.00"))
    assert quote.interest_due == D("600.00")
    assert (quote.period_start, quote.days, quote.accrued_interest) == (date(2026, 2, 10), 15, D("275.00"))
    assert (quote.penalty, quote.credit) == (D("22.50"), D("0.00"))
    assert quote.overdue_total == D("10622.50")
    assert quote.total == D("120897.50")  # 120,000.00 + 600.00 + 275.00 + 22.50
    waived = dict(quote.interest_waived)
    assert len(waived) == 11
    assert sum(waived.values()) == D("3025.00")  # 275.00 of installment 2, and 500.00 + 450.00 + … + 50.00


def test_it_charges_no_more_interest_for_a_period_already_paid(loan, staff):
    with on(date(2026, 2, 10)):
        post(loan, "10600.00", paid_on=date(2026, 2, 10), reference="I1", by=staff["officer"])
    with on(date(2026, 3, 5)):
        post(loan, "10550.00", paid_on=date(2026, 3, 5), reference="I2", by=staff["officer"])
    loan.refresh_from_db()

    quote = services.payoff_quote(loan=loan, on_date=date(2026, 3, 8))

    # Installment 2 (due 10 Mar) was paid early with its 550.00 interest; 26 days on the 100,000.00 still owed would
    # be 433.33, already covered and not refunded: the payoff is the principal alone.
    assert (quote.days, quote.accrued_interest) == (26, D("0.00"))
    assert quote.total == D("100000.00")


def test_it_uses_the_credit_balance_in_the_quote(loan, staff):
    with on(date(2026, 1, 20)):
        post(loan, "10700.00", paid_on=date(2026, 1, 20), reference="OVER", by=staff["officer"])
    loan.refresh_from_db()

    quote = services.payoff_quote(loan=loan, on_date=date(2026, 1, 25))

    # Installment 1 is paid (its interest covers 10 Jan – 10 Feb); nothing accrues on installment 2 before 10 Feb.
    assert (quote.principal, quote.accrued_interest, quote.credit) == (D("110000.00"), D("0.00"), D("100.00"))
    assert quote.total == D("109900.00")


def test_it_closes_the_loan_with_a_payoff(loan, staff):
    set_penalty(loan, 1, "22.50")

    with on(date(2026, 2, 25)):
        repayment = services.payoff_post(
            loan=loan,
            on_date=date(2026, 2, 25),
            reference="PAYOFF-1",
            channel="bank_transfer",
            by=staff["officer"],
            expected_total="120897.50",
        )

    assert (repayment.kind, repayment.amount, repayment.paid_on) == ("payoff", D("120897.50"), date(2026, 2, 25))
    loan.refresh_from_db()
    assert (loan.status, loan.paid_off_on, loan.outstanding_principal) == ("paid_off", date(2026, 2, 25), D("0.00"))
    assert (loan.next_due_date, loan.next_due_amount, loan.credit_balance) == (None, D("0.00"), D("0.00"))
    rows = installments(loan)
    assert all(item.status == "paid" and item.outstanding == 0 for item in rows)
    assert {item.paid_on for item in rows} == {date(2026, 2, 25)}
    first, second, third = rows[:3]
    assert (first.penalty_paid, first.interest_paid, first.principal_paid) == (D("22.50"), D("600.00"), D("10000.00"))
    assert (second.interest_paid, second.interest_waived) == (D("275.00"), D("275.00"))
    assert (third.interest_paid, third.interest_waived, third.principal_paid) == (D("0.00"), D("500.00"), D("10000.00"))
    allocated = sum(row.total for row in Allocation.objects.filter(repayment=repayment, is_active=True))
    assert allocated == D("120897.50")
    assert list(LoanEvent.objects.filter(loan=loan).values_list("kind", flat=True)) == [
        "disbursed",
        "payoff",
        "paid_off",
    ]
    with on(date(2026, 2, 26)), pytest.raises(TransitionError):
        services.payoff_quote(loan=loan, on_date=date(2026, 2, 26))


def test_it_refuses_a_payoff_whose_amount_changed_since_the_quote(loan, staff):
    with on(date(2026, 2, 25)), pytest.raises(ValidationError, match=re.escape("now ¥120,875.00, not ¥120,000.00")):
        services.payoff_post(
            loan=loan,
            on_date=date(2026, 2, 25),
            reference="PAYOFF-1",
            channel="cash",
            by=staff["officer"],
            expected_total="120000.00",
        )

    assert not Repayment.objects.exists()


def test_it_refuses_a_payoff_dated_before_the_last_repayment(loan, staff):
    with on(date(2026, 2, 25)):
        post(loan, "100.00", paid_on=date(2026, 2, 20), reference="R1", by=staff["officer"])
        with pytest.raises(ValidationError, match="before the last repayment"):
            services.payoff_post(
                loan=loan, on_date=date(2026, 2, 19), reference="PAYOFF-1", channel="cash", by=staff["officer"]
            )

    assert Loan.objects.get(pk=loan.pk).status == "active"


def test_it_returns_the_same_payoff_for_a_repeated_reference(loan, staff):
    with on(date(2026, 2, 25)):
        first = services.payoff_post(
            loan=loan, on_date=date(2026, 2, 25), reference="PAYOFF-1", channel="cash", by=staff["officer"]
        )
        again = services.payoff_post(
            loan=loan, on_date=date(2026, 2, 25), reference="PAYOFF-1", channel="cash", by=staff["officer"]
        )

    assert again.pk == first.pk
    assert Repayment.objects.count() == 1
