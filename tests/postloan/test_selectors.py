"""Loan reads: branch scope (404 outside it) and a detail page whose query count does not grow with its rows."""

from datetime import date

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from followups.models import OPEN_FOLLOWUP_STATUSES, FollowUpStatus
from postloan import selectors, services
from postloan.models import Loan

from .factories import disbursed_loan, on, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff)


def test_it_scopes_loans_to_the_users_branch(loan, staff):
    assert list(selectors.loans_for(staff["officer"])) == [loan]
    assert list(selectors.loans_for(staff["hq_manager"])) == [loan]
    assert list(selectors.loans_for(staff["other_officer"])) == []
    with pytest.raises(Http404):
        selectors.loan_detail(staff["other_manager"], loan.pk)


def test_it_filters_the_loan_list(loan, staff):
    Loan.objects.filter(pk=loan.pk).update(status="overdue", overdue_since=date(2026, 2, 11), dpd=12, bucket="1_30")

    assert list(selectors.loan_list(user=staff["manager"], status="overdue", bucket="1_30")) == [loan]
    assert list(selectors.loan_list(user=staff["manager"], bucket="31_60")) == []
    assert list(selectors.loan_list(user=staff["officer"], mine=True, query=loan.number)) == [loan]
    assert list(selectors.loan_list(user=staff["officer2"], mine=True)) == []
    assert list(selectors.loan_list(user=staff["manager"], query="李明")) == [loan]


def test_it_loads_the_loan_page_in_the_same_number_of_queries_whatever_its_rows(loan, staff):
    def counted(tab: str) -> tuple[int, Loan]:
        with CaptureQueriesContext(connection) as queries:
            detail = selectors.loan_detail(staff["manager"], loan.pk, tab=tab)
            _touch(detail, tab)
        return len(queries), detail

    with on(date(2026, 2, 5)):
        post(loan, "100.00", paid_on=date(2026, 2, 5), reference="A", by=staff["officer"])
    one_repayment = {tab: counted(tab)[0] for tab in TABS_WITH_ROWS}

    with on(date(2026, 2, 6)):
        post(loan, "200.00", paid_on=date(2026, 2, 6), reference="B", by=staff["officer"])
        post(loan, "300.00", paid_on=date(2026, 2, 6), reference="C", by=staff["officer"])
        services.repayment_reverse(repayment=loan.repayments.get(reference="A"), by=staff["manager"], reason="bounced")
    three_repayments = {tab: counted(tab)[0] for tab in TABS_WITH_ROWS}

    assert three_repayments == one_repayment
    # Only the tab shown brings its rows: the schedule's page reads no repayment, event or classification row.
    assert one_repayment["schedule"] < one_repayment["repayments"]
    detail = counted("repayments")[1]
    assert detail.repayment_count == 3
    repayments = list(selectors.loan_repayments(detail))
    assert [r.reference for r in repayments] == ["C", "B", "A"]  # newest first
    assert repayments[-1].reversal.reversed_by == staff["manager"]
    assert [len(r.active_allocations) for r in repayments] == [1, 1, 0]
    assert [item.number for item in detail.schedule] == list(range(1, 13))
    assert selectors.loan_events(detail)[0].kind == "reversal"
    assert not hasattr(counted("schedule")[1], "classification_history")


TABS_WITH_ROWS = ("schedule", "repayments", "timeline", "classification")


def _touch(loan: Loan, tab: str) -> None:
    """Read everything a loan page shows on `tab`."""
    str(loan.borrower), str(loan.branch), str(loan.officer), str(loan.contract.disbursement)
    str(loan.contract.prepared_by), str(loan.contract.confirmed_by)
    assert all(item.outstanding >= 0 for item in loan.schedule)
    for repayment in selectors.loan_repayments(loan)[:20] if tab == "repayments" else []:
        str(repayment.posted_by)
        if repayment.is_reversed:
            str(repayment.reversal.reversed_by)
        for row in repayment.active_allocations:
            str(row.installment)
    for event in selectors.loan_events(loan)[:20] if tab == "timeline" else []:
        str(event.actor)
    for change in loan.classification_history if tab == "classification" else []:
        str(change.by)
    list(loan.schedule_versions.all())


def test_the_follow_ups_in_work_are_those_not_yet_approved_or_cancelled():
    # postloan names the followups app's statuses as strings (it does not import the app): a status added there must
    # be placed on the loan's page, in the card or on the tab only.
    finished = {FollowUpStatus.APPROVED, FollowUpStatus.CANCELLED}
    assert set(selectors.FOLLOWUPS_IN_WORK) == set(FollowUpStatus.values) - finished
    assert set(OPEN_FOLLOWUP_STATUSES) <= set(selectors.FOLLOWUPS_IN_WORK)
