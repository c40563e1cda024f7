"""`Loan.past_due_amount`: what fell due before the business date and is unpaid, penalty included, kept on the loan
by `loan_refresh_summary` and the daily sweep so that the overdue list and its per-bucket totals read loans only.

The loans: ¥100,000.00 at 6 % a year (penalty 9 %), equal principal over 12 months, disbursed 10 Jan 2026, due on the
10th from 10 Feb: installment 1 is 8,333.33 principal + 500.00 interest, a day of its penalty 2.08.
"""

import importlib
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps
from django.db.models import Count, DecimalField, F, OuterRef, Subquery, Sum
from django.db.models import Value as V
from django.db.models.functions import Coalesce

from postloan import selectors, services
from postloan.models import Allocation, Installment, Loan
from postloan.services import sweep_daily
from postloan.services.common import loan_refresh_summary
from tests.applications.factories import RESIDENT_IDS

from .factories import disbursed_loan, on, post

pytestmark = pytest.mark.django_db

D = Decimal
DAY = date(2026, 5, 20)


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff, amount="100000.00")


def past_due(loan: Loan) -> Decimal:
    return Loan.objects.values_list("past_due_amount", flat=True).get(pk=loan.pk)


# --- postings and the sweep ---------------------------------------------------------------------------------------
def test_a_repayment_takes_off_what_it_paid_on_past_due_installments(loan, staff):
    sweep_daily(business_date=date(2026, 2, 11))
    assert past_due(loan) == D("8835.41")  # 8,333.33 + 500.00 + a day of penalty

    with on(date(2026, 2, 13)):
        part = post(loan, "4502.08", paid_on=date(2026, 2, 13), reference="PART", by=staff["officer"])
    assert past_due(loan) == D("4333.33")  # the penalty, the interest and 4,000.00 of the principal are paid

    with on(date(2026, 2, 14)):
        rest = post(loan, "6000.00", paid_on=date(2026, 2, 14), reference="REST", by=staff["officer"])
    # Only what went to installment 1 counts: the rest pays installment 2 ahead of its due date.
    to_first = Allocation.objects.filter(repayment=rest, installment__number=1, is_active=True).aggregate(
        total=Sum(F("penalty") + F("interest") + F("principal"))
    )["total"]
    assert to_first == D("4333.33")
    loan.refresh_from_db()
    assert (loan.past_due_amount, loan.status) == (D("0.00"), "active")
    assert part.amount + to_first == D("8835.41")


def test_the_sweep_sets_it_with_the_days_penalty_and_a_quiet_loan_keeps_nothing(loan, staff):
    quiet = disbursed_loan(staff, identity=RESIDENT_IDS[1], amount="100000.00")
    with on(date(2026, 2, 9)):
        post(quiet, "8833.33", paid_on=date(2026, 2, 9), reference="EARLY", by=staff["officer"])
    # A stale amount on a loan that is quiet by every other column: the sweep must not leave it there.
    Loan.objects.filter(pk=quiet.pk).update(past_due_amount=D("123.45"))

    sweep_daily(business_date=date(2026, 2, 11))
    sweep_daily(business_date=date(2026, 2, 12))

    loan.refresh_from_db()
    assert (loan.status, loan.dpd) == ("overdue", 2)
    assert loan.past_due_amount == D("8837.49")  # 8,833.33 + two days of penalty (2.08 each)
    assert loan.past_due_amount == loan_refresh_summary(loan, today=date(2026, 2, 12)).past_due_amount
    quiet.refresh_from_db()
    assert (quiet.status, quiet.past_due_amount, quiet.penalty_accrued_through) == (
        "active",
        D("0.00"),
        date(2026, 2, 12),
    )


def test_a_paid_off_loan_owes_nothing_past_due(loan, staff):
    sweep_daily(business_date=date(2026, 2, 11))
    with on(date(2026, 2, 11)):
        services.payoff_post(
            loan=loan, on_date=date(2026, 2, 11), reference="ALL", channel="bank_transfer", by=staff["officer"]
        )

    loan.refresh_from_db()
    assert (loan.status, loan.past_due_amount) == ("paid_off", D("0.00"))


# --- the overdue list and its totals ------------------------------------------------------------------------------
def _installment_rule(today: date):
    """The overdue amounts as the selectors computed them before the column: from the installments of each loan."""
    unpaid = Installment.objects.filter(version__version=F("loan__current_version"), due_date__lt=today).exclude(
        status="paid"
    )
    owed = (
        F("principal_due")
        - F("principal_paid")
        + F("interest_due")
        - F("interest_waived")
        - F("interest_paid")
        + F("penalty_accrued")
        - F("penalty_paid")
    )
    return unpaid, owed


def old_summary(today: date) -> dict:
    unpaid, owed = _installment_rule(today)
    rows = (
        unpaid.filter(loan__status="overdue")
        .order_by()
        .values("loan__bucket")
        .annotate(loans=Count("loan", distinct=True), amount=Sum(owed))
    )
    return {row["loan__bucket"]: (row["loans"], row["amount"]) for row in rows}


def old_amounts(today: date) -> dict:
    unpaid, owed = _installment_rule(today)
    per_loan = unpaid.filter(loan=OuterRef("pk")).order_by().values("loan").annotate(total=Sum(owed)).values("total")
    money = DecimalField(max_digits=18, decimal_places=2)
    return dict(
        Loan.objects.filter(status__in=["active", "overdue"])
        .annotate(old=Coalesce(Subquery(per_loan, output_field=money), V(D("0.00"))))
        .values_list("pk", "old")
    )


@pytest.fixture
def book(staff, product):
    """Three loans that stopped paying at different installments, swept on DAY into three buckets (one stopped in
    the middle of an installment), and one loan that pays on time."""
    paid_through = {0: 0, 1: 1.5, 2: 3, 3: 4}  # installments paid on their due dates (½: half of the next)
    loans = {}
    for index, paid in paid_through.items():
        loan = disbursed_loan(staff, identity=RESIDENT_IDS[index], amount=f"{60000 + 12000 * index}.00")
        schedule = list(loan.current_installments())
        for item in schedule[: int(paid)]:
            with on(item.due_date):
                post(
                    loan,
                    str(item.total_due),
                    paid_on=item.due_date,
                    reference=f"L{index}-R{item.number}",
                    by=staff["officer"],
                )
        if paid != int(paid):
            item = schedule[int(paid)]
            with on(item.due_date):
                half = (item.total_due / 2).quantize(D("0.01"))
                post(loan, str(half), paid_on=item.due_date, reference=f"L{index}-HALF", by=staff["officer"])
        loans[index] = loan
    sweep_daily(business_date=DAY)
    return loans


def test_the_list_and_totals_equal_the_installment_rule_on_a_book_of_several_buckets(book, staff):
    with on(DAY):
        summary = selectors.overdue_summary(user=staff["manager"])
        listed = selectors.overdue_list(user=staff["manager"])

    assert {row["bucket"]: (row["loans"], row["amount"]) for row in summary} == old_summary(DAY)
    assert {row["bucket"] for row in summary} == {"91_180", "61_90", "1_30"}
    old = old_amounts(DAY)
    assert {loan.pk: loan.overdue_amount for loan in listed} == {
        pk: old[pk] for pk in Loan.objects.filter(status="overdue").values_list("pk", flat=True)
    }
    assert all(loan.overdue_amount > 0 for loan in listed)
    assert Loan.objects.get(pk=book[3].pk).past_due_amount == D("0.00")  # paid through May: June is not due yet


def test_the_migration_backfills_the_open_loans_in_one_update(book, django_assert_num_queries):
    expected = dict(Loan.objects.values_list("pk", "past_due_amount"))
    Loan.objects.update(past_due_amount=D("0.00"))
    migration = importlib.import_module("postloan.migrations.0008_loan_past_due_amount")

    with on(DAY), django_assert_num_queries(1):
        migration.backfill_past_due_amount(apps, None)

    assert dict(Loan.objects.values_list("pk", "past_due_amount")) == expected
    assert expected == old_amounts(DAY) and sum(expected.values()) > 0
