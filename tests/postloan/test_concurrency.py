"""Simultaneous postings on one loan, on PostgreSQL: one repayment per reference, and no lost update.

Sixteen threads, each with its own database connection, start together at a barrier and post their share of 50
payments; the loan row lock serialises them, the unique reference keeps duplicates out.
"""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import translation

from postloan.models import Allocation, Installment, Loan, Repayment
from tests.conftest import require_service

from .factories import disbursed_loan, on, post

WORKERS = 16  # well under max_connections (100), which other test runs share
TASKS = 50
ZERO = Decimal("0.00")


def race(tasks: list[Callable[[], object]]) -> list[object]:
    """Run the tasks on WORKERS threads that start together; return each task's result or exception."""
    barrier = threading.Barrier(WORKERS)
    shares = [tasks[index::WORKERS] for index in range(WORKERS)]

    def run(share: list[Callable[[], object]]) -> list[object]:
        results = []
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                for task in share:
                    try:
                        results.append(task())
                    except Exception as exc:
                        results.append(exc)
        finally:
            connection.close()
        return results

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [result for share_results in pool.map(run, shares) for result in share_results]


@pytest.fixture
def loan(staff, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    return disbursed_loan(staff)


@pytest.mark.django_db(transaction=True)
def test_it_records_one_repayment_for_fifty_simultaneous_postings_of_one_reference(loan, staff):
    def task():
        return post(
            Loan.objects.get(pk=loan.pk), "5000.00", paid_on=date(2026, 1, 20), reference="SAME", by=staff["officer"]
        )

    with on(date(2026, 1, 20)):
        results = race([task] * TASKS)

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    assert len({repayment.pk for repayment in results}) == 1
    assert Repayment.objects.count() == 1
    assert Allocation.objects.count() == 1
    first = Installment.objects.get(loan=loan, number=1)
    assert (first.interest_paid, first.principal_paid) == (Decimal("600.00"), Decimal("4400.00"))
    assert Loan.objects.get(pk=loan.pk).outstanding_principal == Decimal("115600.00")


@pytest.mark.django_db(transaction=True)
def test_it_loses_no_update_under_fifty_simultaneous_postings(loan, staff):
    def task(index: int):
        return lambda: post(
            Loan.objects.get(pk=loan.pk),
            "37.00",
            paid_on=date(2026, 1, 20),
            reference=f"SMALL-{index:02d}",
            by=staff["officer"],
        )

    with on(date(2026, 1, 20)):
        results = race([task(index) for index in range(TASKS)])

    errors = [result for result in results if isinstance(result, Exception)]
    assert errors == []
    assert Repayment.objects.count() == TASKS
    allocated = Allocation.objects.filter(is_active=True).aggregate(
        penalty=Sum("penalty"), interest=Sum("interest"), principal=Sum("principal"), credit=Sum("to_credit")
    )
    assert sum(allocated.values()) == Decimal("37.00") * TASKS == Decimal("1850.00")
    # 1,850.00 on installment 1: its 600.00 interest, then 1,250.00 of principal.
    first = Installment.objects.get(loan=loan, number=1)
    assert (first.interest_paid, first.principal_paid) == (allocated["interest"], allocated["principal"])
    assert (first.interest_paid, first.principal_paid) == (Decimal("600.00"), Decimal("1250.00"))
    assert Installment.objects.exclude(number=1).filter(loan=loan).aggregate(paid=Sum("principal_paid"))["paid"] == ZERO
    loan.refresh_from_db()
    assert loan.outstanding_principal == Decimal("118750.00")
    assert loan.next_due_amount == Decimal("8750.00")
