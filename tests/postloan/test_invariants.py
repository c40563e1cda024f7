"""Whatever sequence of postings, payoffs and reversals happens, the books balance.

- Σ active allocations (penalty + interest + principal + to_credit) == Σ repayments not reversed, per repayment too;
- no installment has more paid than is due, and its paid columns are the sums of its active allocations;
- the loan's credit balance and outstanding principal agree with the rows, and its summary columns are what reading
  every row again gives (a posting computes them from what it holds in memory), on the row and on the caller's loan.

Both for a loan disbursed in LoanTrack and for one migrated from another system, whose installments paid before the
migration are paid by its opening repayment (which cannot be reversed).
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from postloan import services
from postloan.models import Allocation, Installment, Loan, Repayment, TransitionError
from postloan.services.common import SUMMARY_FIELDS, loan_refresh_summary
from postloan.services.migration import loan_import
from tests.applications.factories import make_borrower

from .factories import DISBURSED_ON, FIRST_DUE, disbursed_loan, on, post, set_penalty

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 20)  # installments 1–5 (10 Feb – 10 Jun) are past due, 6 is the current period
DAYS = (TODAY - DISBURSED_ON).days
ZERO = Decimal("0.00")

# In fen: small payments, and large ones beyond the ¥62,862.01 payable on TODAY (kept as credit).
amounts = st.one_of(st.integers(1, 200_000), st.integers(200_000, 8_000_000)).map(lambda fen: Decimal(fen).scaleb(-2))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("post"), amounts, st.integers(min_value=0, max_value=DAYS)),
        st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=9)),
        st.tuples(st.just("payoff"), st.integers(min_value=0, max_value=DAYS)),
    ),
    min_size=1,
    max_size=8,
)


def imported_loan(staff, product) -> Loan:
    """The same terms as `disbursed_loan`, migrated on TODAY with installments 1–3 paid before the migration."""
    with on(TODAY):
        return loan_import(
            borrower=make_borrower(staff["officer"]),
            product=product,
            branch=staff["manager"].branch,
            officer=staff["officer"],
            contract_number="MIG-0001",
            principal=Decimal("120000.00"),
            annual_rate=Decimal("6.0000"),
            term_months=12,
            method="equal_principal",
            disbursed_on=DISBURSED_ON,
            first_due_date=FIRST_DUE,
            paid_installments=3,
            by=staff["manager"],
        )


@pytest.fixture(params=["disbursed", "imported"])
def loan(request, staff, product):
    return imported_loan(staff, product) if request.param == "imported" else disbursed_loan(staff)


def test_an_imported_loans_books_balance_and_its_opening_repayment_pays_the_first_three_installments(staff, product):
    loan = imported_loan(staff, product)
    assert_books_balance(loan)
    opening = Repayment.objects.get(loan=loan)
    # Equal principal of ¥120,000.00 at 0.5 % a month: 3 × 10,000.00 principal, 600.00 + 550.00 + 500.00 interest.
    assert (opening.amount, opening.paid_on, opening.channel) == (Decimal("31650.00"), date(2026, 4, 10), "migrated")
    assert [(item.number, item.status, item.paid_on) for item in loan.current_installments()[:4]] == [
        (1, "paid", date(2026, 2, 10)),
        (2, "paid", date(2026, 3, 10)),
        (3, "paid", date(2026, 4, 10)),
        (4, "pending", None),
    ]


def assert_books_balance(loan: Loan, handed: Loan | None = None) -> None:
    """`handed`: the loan object the last posting was called with."""
    loan = Loan.objects.get(pk=loan.pk)
    active = Allocation.objects.filter(loan=loan, is_active=True)
    for repayment in Repayment.objects.filter(loan=loan):
        rows = [row.total for row in active if row.repayment_id == repayment.pk]
        assert sum(rows, ZERO) == (ZERO if repayment.is_reversed else repayment.amount), repayment.reference
    standing = Repayment.objects.filter(loan=loan, is_reversed=False).aggregate(total=Sum("amount", default=ZERO))
    assert sum((row.total for row in active), ZERO) == standing["total"]

    for item in Installment.objects.filter(loan=loan):
        assert item.principal_paid <= item.principal_due
        assert item.interest_paid <= item.interest_due - item.interest_waived
        assert item.penalty_paid <= item.penalty_accrued
        sums = active.filter(installment=item).aggregate(
            penalty=Sum("penalty", default=ZERO),
            interest=Sum("interest", default=ZERO),
            principal=Sum("principal", default=ZERO),
        )
        assert (item.penalty_paid, item.interest_paid, item.principal_paid) == (
            sums["penalty"],
            sums["interest"],
            sums["principal"],
        )
        expected = "paid" if item.outstanding == 0 else "partial" if item.total_paid else "pending"
        assert item.status == expected

    credit = active.aggregate(total=Sum("to_credit", default=ZERO))["total"]
    assert loan.credit_balance == credit >= 0
    principal_left = Installment.objects.filter(loan=loan).aggregate(
        due=Sum("principal_due"), paid=Sum("principal_paid")
    )
    assert loan.outstanding_principal == principal_left["due"] - principal_left["paid"]
    assert (loan.status == "paid_off") == all(item.outstanding == 0 for item in Installment.objects.filter(loan=loan))
    assert summary(loan_refresh_summary(Loan.objects.get(pk=loan.pk), today=TODAY)) == summary(loan)
    if handed is not None:
        assert summary(handed) == summary(loan)


def summary(loan: Loan) -> dict:
    return {name: getattr(loan, name) for name in SUMMARY_FIELDS if name != "updated_at"}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_it_keeps_allocations_equal_to_repayments_after_any_postings_and_reversals(loan, staff, steps):
    with on(TODAY), transaction.atomic():
        # What the sweep would have accrued on the two oldest installments still owed (1 and 2, or 4 and 5).
        first, second = Installment.objects.filter(loan=loan, status="pending").order_by("number")[:2]
        set_penalty(loan, first.number, "12.34")
        set_penalty(loan, second.number, "5.67")
        loan_refresh_summary(Loan.objects.get(pk=loan.pk), today=TODAY)  # as the sweep leaves it
        for index, step in enumerate(steps):
            current = Loan.objects.get(pk=loan.pk)
            handed = current if step[0] != "reverse" else None
            try:
                if step[0] == "post":
                    _kind, amount, offset = step
                    post(
                        current,
                        str(amount),
                        paid_on=DISBURSED_ON + timedelta(days=offset),
                        reference=f"H{index}",
                        by=staff["officer"],
                    )
                elif step[0] == "payoff":
                    services.payoff_post(
                        loan=current,
                        on_date=DISBURSED_ON + timedelta(days=step[1]),
                        reference=f"H{index}",
                        channel="cash",
                        by=staff["officer"],
                    )
                else:
                    standing = list(Repayment.objects.filter(loan=loan, is_reversed=False).order_by("pk"))
                    if not standing:
                        continue
                    services.repayment_reverse(
                        repayment=standing[step[1] % len(standing)], by=staff["manager"], reason="test"
                    )
                event(f"{step[0]} done")
            except (TransitionError, ValidationError):
                # Refused (a closed loan, a payoff dated before the last repayment): nothing may change.
                event(f"{step[0]} refused")
            assert_books_balance(loan, handed=handed)
        final = Loan.objects.get(pk=loan.pk)
        event(f"ends {final.status}" + (" with credit" if final.credit_balance else ""))
        transaction.set_rollback(True)
