"""The loan and application lists' counts per status, kept by PostgreSQL triggers (core.status_counts).

Each test compares the kept counts with a live COUNT of the same rows, after the ways rows change: a loan made by
the services, a status moved by a set-based UPDATE (as the daily sweep does), rows deleted, a repayment that leaves
the status alone, and a rebuild from scratch."""

from datetime import date

from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from applications.models import Application, ApplicationStatusCount
from applications.selectors import status_counts
from core.status_counts import are_kept, rebuild
from postloan.models import Loan, LoanStatusCount
from postloan.selectors import loan_status_counts
from tests.applications.factories import RESIDENT_IDS, make_application

from .factories import disbursed_loan, on, post


def live(model, **filters) -> dict[str, int]:
    rows = model.objects.filter(**filters).order_by().values("status").annotate(n=Count("*"))
    return {row["status"]: row["n"] for row in rows}


def kept(model, **filters) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in model.objects.filter(**filters):
        totals[row.status] = totals.get(row.status, 0) + row.n
    return {status: n for status, n in totals.items() if n}


def test_the_database_keeps_the_counts_as_loans_are_made_and_change_status(staff, product):
    assert are_kept()  # the tests run on PostgreSQL, where the triggers are
    first = disbursed_loan(staff)
    second = disbursed_loan(staff, identity=RESIDENT_IDS[1])
    assert kept(LoanStatusCount, officer=staff["officer"]) == {"active": 2} == live(Loan, officer=staff["officer"])

    Loan.objects.filter(pk=second.pk).update(
        status="overdue", overdue_since=date(2026, 2, 11)
    )  # a set-based UPDATE, as the sweep makes them
    assert kept(LoanStatusCount) == {"active": 1, "overdue": 1} == live(Loan)

    Loan.objects.filter(pk=first.pk).update(officer=staff["officer2"])  # handed over to another officer
    assert kept(LoanStatusCount, officer=staff["officer2"]) == {"active": 1}
    assert kept(LoanStatusCount, officer=staff["officer"]) == {"overdue": 1}
    assert kept(ApplicationStatusCount) == live(Application)


def test_a_repayment_that_leaves_the_status_alone_changes_no_count(staff, product):
    loan = disbursed_loan(staff)
    before = list(LoanStatusCount.objects.values_list("pk", "status", "n"))

    with on(date(2026, 2, 5)):
        post(loan, "100.00", paid_on=date(2026, 2, 5), reference="SC-1", by=staff["officer"])

    assert list(LoanStatusCount.objects.values_list("pk", "status", "n")) == before


def test_deleted_rows_leave_the_counts_and_a_rebuild_counts_the_same(staff, product):
    loan = disbursed_loan(staff)
    disbursed_loan(staff, identity=RESIDENT_IDS[1])
    Application.objects.filter(pk=loan.contract.application_id).update(status="withdrawn")
    draft = make_application(staff["officer"], borrower=loan.borrower)
    assert kept(ApplicationStatusCount)["draft"] == 1
    draft.events.all().delete()
    Application.objects.filter(pk=draft.pk).delete()
    expected = kept(ApplicationStatusCount)
    assert "draft" not in expected and expected == live(Application)

    Loan.objects.filter(pk=loan.pk).update(status="paid_off", paid_off_on=date(2026, 2, 11))
    LoanStatusCount.objects.update(n=999)  # whatever was there
    rebuild("postloan_loan", "postloan_loanstatuscount")
    rebuild("applications_application", "applications_applicationstatuscount")

    assert kept(LoanStatusCount) == {"active": 1, "paid_off": 1} == live(Loan)
    assert kept(ApplicationStatusCount) == expected


def test_the_lists_read_the_kept_counts_unless_other_filters_narrow_them(staff, product):
    disbursed_loan(staff)
    officer, manager = staff["officer"], staff["manager"]

    with CaptureQueriesContext(connection) as mine:
        assert loan_status_counts(user=officer, mine=True) == {"active": 1}
    with CaptureQueriesContext(connection) as narrowed:
        assert loan_status_counts(user=officer, mine=True, product_id=product.pk) == {"active": 1}
    assert loan_status_counts(user=manager) == {"active": 1}
    assert loan_status_counts(user=manager, officer_id=staff["officer2"].pk) == {}
    assert loan_status_counts(user=staff["other_officer"], mine=True) == {}  # another branch's officer
    assert status_counts(user=officer, mine=True) == live(Application, officer=officer)

    assert "postloan_loanstatuscount" in mine.captured_queries[0]["sql"]
    assert "postloan_loanstatuscount" not in narrowed.captured_queries[0]["sql"]


def test_emptying_the_table_empties_its_counts(staff, product):
    disbursed_loan(staff)
    assert kept(LoanStatusCount) == {"active": 1}

    with connection.cursor() as cursor:  # as the test runner's flush and the generator's cleanup do
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the deferred key checks first: TRUNCATE waits for none
        cursor.execute("TRUNCATE postloan_loan CASCADE")

    assert kept(LoanStatusCount) == {} == live(Loan)


def test_compacting_folds_the_appended_rows_and_keeps_every_count(staff, product):
    from core.tasks import compact_status_counts

    first = disbursed_loan(staff)
    disbursed_loan(staff, identity=RESIDENT_IDS[1])
    Loan.objects.filter(pk=first.pk).update(status="overdue", overdue_since=date(2026, 2, 11))
    Loan.objects.filter(pk=first.pk).update(status="active", overdue_since=None)  # cured the same day
    before = kept(LoanStatusCount), kept(ApplicationStatusCount)
    assert LoanStatusCount.objects.count() > 1

    compacted = compact_status_counts()

    assert (kept(LoanStatusCount), kept(ApplicationStatusCount)) == before
    assert list(LoanStatusCount.objects.values_list("status", "n")) == [("active", 2)]
    assert compacted["postloan_loanstatuscount"] == 1
