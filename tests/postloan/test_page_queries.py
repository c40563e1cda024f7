"""The loan pages cost the same number of queries whatever their rows: lists of 3 or 30 loans, a loan with 1 or 10
repayments and follow-ups on every tab, the overdue list of 3 or 30 loans."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from postloan.models import Contract, Loan
from postloan.views.loans import TABS
from tests.followups.factories import loan_followup

from .factories import disbursed_loan, on, post

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def copy_loans(loan: Loan, count: int) -> None:
    """More loans for a list: copies of the loan's application, contract and loan rows (a list reads nothing else)."""
    for _index in range(count):
        suffix = f"{Loan.objects.count():03d}"
        application = Application.objects.get(pk=loan.contract.application_id)
        application.pk, application.number = None, f"{application.number[:15]}C{suffix}"
        Application.objects.bulk_create([application])
        contract = Contract.objects.get(pk=loan.contract_id)
        contract.pk, contract.application, contract.number = None, application, f"{contract.number[:15]}C{suffix}"
        Contract.objects.bulk_create([contract])
        copy = Loan.objects.get(pk=loan.pk)
        copy.pk, copy.contract, copy.number = None, contract, contract.number
        Loan.objects.bulk_create([copy])


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


@pytest.mark.parametrize("who", ["officer", "manager", "hq_manager"])
def test_it_lists_3_or_30_loans_with_the_same_queries(client, staff, loan, who):
    copy_loans(loan, 2)
    client.force_login(staff[who])
    few = count_queries(client, reverse("postloan:list"))

    copy_loans(loan, 27)
    many = count_queries(client, reverse("postloan:list"))

    assert Loan.objects.count() == 30
    assert few == many
    assert many <= 12


def test_it_lists_3_or_30_overdue_loans_with_the_same_queries(client, staff, loan):
    copy_loans(loan, 2)
    client.force_login(staff["risk"])
    with on(date(2026, 3, 12)):
        Loan.objects.update(status="overdue", overdue_since=date(2026, 2, 11), dpd=30, bucket="1_30")
        few = count_queries(client, reverse("postloan:overdue"))
        copy_loans(loan, 27)
        Loan.objects.update(status="overdue", overdue_since=date(2026, 2, 11), dpd=30, bucket="1_30")
        many = count_queries(client, reverse("postloan:overdue"))

    assert few == many
    assert many <= 10


@pytest.mark.parametrize("tab", [key for key, _label in TABS])
def test_it_shows_a_loan_with_1_or_10_repayments_and_follow_ups_with_the_same_queries(client, staff, product, tab):
    small = disbursed_loan(staff)
    large = disbursed_loan(staff, identity="110105199001011232")
    with on(date(2026, 2, 5)):
        post(small, "100.00", paid_on=date(2026, 2, 5), reference="S-1", by=staff["officer"])
        for index in range(10):
            post(large, "100.00", paid_on=date(2026, 2, 5), reference=f"L-{index}", by=staff["officer"])
    # In work (the card above the tabs) and finished (the follow-ups tab only).
    for each, count in ((small, 2), (large, 10)):
        for index in range(count):
            loan_followup(each, due_on=date(2026, 2, 1 + index), status=("planned", "approved")[index % 2])
    client.force_login(staff["manager"])

    few = count_queries(client, reverse("postloan:detail", args=[small.pk]) + f"?tab={tab}")
    many = count_queries(client, reverse("postloan:detail", args=[large.pk]) + f"?tab={tab}")

    assert few == many
    assert many <= 20
