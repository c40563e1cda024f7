"""Reversals: by someone other than the poster, with a reason, re-applying the repayments that stand, deleting nothing.

The loan: ¥120,000.00 at 6 % a year, equal principal over 12 months, from 10 Jan 2026 (installment 1: 10,000.00 +
600.00 interest due 10 Feb; installment 2: 10,000.00 + 550.00 due 10 Mar).
"""

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.roles import Role
from postloan import services
from postloan.models import Allocation, Loan, LoanEvent, Repayment, RepaymentReversal, TransitionError

from .factories import disbursed_loan, installments, on, paid_columns, post

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


@pytest.fixture
def three_repayments(loan, staff):
    """6,000.00 on 12 Mar, 6,000.00 on 15 Mar and 3,000.00 on 18 Mar, posted on those days."""
    posted = []
    for day, amount, reference in [(12, "6000.00", "R1"), (15, "6000.00", "R2"), (18, "3000.00", "R3")]:
        with on(date(2026, 3, day)):
            posted.append(post(loan, amount, paid_on=date(2026, 3, day), reference=reference, by=staff["officer"]))
    return posted


def test_it_refuses_the_poster_to_reverse_their_own_repayment(loan, staff, three_repayments):
    officer = staff["officer"]
    officer.groups.add(Group.objects.get_or_create(name=Role.RISK_OFFICER)[0])
    officer._loantrack_roles = None

    with on(date(2026, 3, 20)), pytest.raises(PermissionDenied, match="another colleague must"):
        services.repayment_reverse(repayment=three_repayments[0], by=officer, reason="退票")

    assert not RepaymentReversal.objects.exists()
    assert not Repayment.objects.filter(is_reversed=True).exists()


def test_it_refuses_a_reversal_without_a_reason_or_by_a_role_without_the_function(loan, staff, three_repayments):
    with on(date(2026, 3, 20)):
        with pytest.raises(ValidationError, match="Say why"):
            services.repayment_reverse(repayment=three_repayments[0], by=staff["manager"], reason="  ")
        with pytest.raises(PermissionDenied, match="Your role does not allow this"):
            services.repayment_reverse(repayment=three_repayments[0], by=staff["officer2"], reason="退票")
        with pytest.raises(PermissionDenied, match="another branch"):
            services.repayment_reverse(repayment=three_repayments[0], by=staff["other_manager"], reason="退票")

    assert not RepaymentReversal.objects.exists()


def test_it_reapplies_the_later_repayments_in_order(loan, staff, three_repayments):
    # Before: R1 paid installment 1's interest and 5,400.00 of its principal; R2 the other 4,600.00, then
    # installment 2's interest and 850.00 of its principal; R3 3,000.00 more of that principal.
    assert paid_columns(loan) == [
        (1, "0.00", "600.00", "10000.00", "paid"),
        (2, "0.00", "550.00", "3850.00", "partial"),
    ]

    with on(date(2026, 3, 20)):
        reversal = services.repayment_reverse(repayment=three_repayments[0], by=staff["risk"], reason="退票 bounced")

    # After: R2 takes R1's place (interest 600.00, principal 5,400.00), R3 follows on installment 1 (3,000.00).
    assert paid_columns(loan) == [(1, "0.00", "600.00", "8400.00", "partial")]
    assert [item.status for item in installments(loan)[:2]] == ["partial", "pending"]
    active = Allocation.objects.filter(loan=loan, is_active=True)
    assert [(row.repayment.reference, row.installment.number, row.interest, row.principal) for row in active] == [
        ("R2", 1, D("600.00"), D("5400.00")),
        ("R3", 1, D("0.00"), D("3000.00")),
    ]
    assert {row.generation for row in active} == {2}
    loan.refresh_from_db()
    assert (loan.outstanding_principal, loan.allocation_generation) == (D("111600.00"), 2)
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 2, 10), D("1600.00"))
    assert (reversal.reversed_by, reversal.reason) == (staff["risk"], "退票 bounced")
    repayment = Repayment.objects.get(reference="R1")
    assert repayment.is_reversed
    assert repayment.history.latest().history_user == staff["risk"]
    event = LoanEvent.objects.get(loan=loan, kind="reversal")
    assert (event.actor, event.note, event.data["reference"], event.data["generation"]) == (
        staff["risk"],
        "退票 bounced",
        "R1",
        2,
    )


def test_it_keeps_every_superseded_allocation(loan, staff, three_repayments):
    before = set(Allocation.objects.values_list("pk", flat=True))

    with on(date(2026, 3, 20)):
        services.repayment_reverse(repayment=three_repayments[1], by=staff["manager"], reason="posted twice")

    retired = Allocation.objects.filter(pk__in=before)
    assert retired.count() == len(before) == 4
    assert all(not row.is_active and row.superseded_at is not None for row in retired)
    assert Allocation.objects.filter(is_active=True).exclude(pk__in=before).count() > 0
    assert Repayment.objects.count() == 3


def test_it_refuses_to_reverse_a_repayment_twice(loan, staff, three_repayments):
    with on(date(2026, 3, 20)):
        services.repayment_reverse(repayment=three_repayments[2], by=staff["manager"], reason="wrong loan")
        with pytest.raises(TransitionError, match="already been reversed"):
            services.repayment_reverse(repayment=three_repayments[2], by=staff["risk"], reason="again")

    assert RepaymentReversal.objects.count() == 1


def test_it_keeps_a_reversed_reference_from_being_posted_again(loan, staff, three_repayments):
    with on(date(2026, 3, 20)):
        services.repayment_reverse(repayment=three_repayments[2], by=staff["manager"], reason="bounced")
        again = post(loan, "3000.00", paid_on=date(2026, 3, 18), reference="R3", by=staff["officer"])

    assert again.pk == three_repayments[2].pk
    assert again.is_reversed
    assert Repayment.objects.count() == 3


def test_it_reopens_a_loan_when_its_payoff_is_reversed(loan, staff):
    with on(date(2026, 2, 25)):
        payoff = services.payoff_post(
            loan=loan, on_date=date(2026, 2, 25), reference="PAYOFF-1", channel="cash", by=staff["officer"]
        )
    assert Loan.objects.get(pk=loan.pk).status == "paid_off"

    with on(date(2026, 2, 27)):
        services.repayment_reverse(repayment=payoff, by=staff["manager"], reason="transfer recalled")

    loan.refresh_from_db()
    assert (loan.status, loan.paid_off_on, loan.outstanding_principal) == ("active", None, D("120000.00"))
    assert all(
        item.status == "pending" and item.total_paid == 0 and item.interest_waived == 0 for item in installments(loan)
    )
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 2, 10), D("10600.00"))
    assert list(LoanEvent.objects.filter(loan=loan).values_list("kind", flat=True)) == [
        "disbursed",
        "payoff",
        "paid_off",
        "reversal",
        "reopened",
    ]
    assert not Allocation.objects.filter(is_active=True).exists()
