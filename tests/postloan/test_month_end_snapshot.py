"""The month-end snapshot the daily sweep writes for the roll rates: every open loan once per month end, only on the
last day of the month (or, when that run was missed, on the next month's first run), in one statement.

The loans: ¥100,000.00 and ¥60,000.00 at 6 % a year, equal principal over 12 months, disbursed 10 Jan 2026, first due
10 Feb; nothing is repaid, so on 28 Feb both are 18 days past due (1–30, special mention).
"""

import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Application
from postloan.models import Loan, LoanMonthEnd, LoanStatus
from postloan.services import sweep_daily
from postloan.services.snapshots import month_end_for, month_end_snapshot
from tests.applications.factories import RESIDENT_IDS, make_product

from .factories import disbursed_loan
from .sweep_book import build_book

pytestmark = pytest.mark.django_db

JAN_31, FEB_28, MAR_31 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
FIELDS = (
    "loan_id",
    "month_end",
    "branch_id",
    "product_id",
    "officer_id",
    "status",
    "dpd",
    "bucket",
    "classification",
    "outstanding_principal",
    "taken_on",
)


@pytest.fixture
def loans(staff, product):
    return {
        "big": disbursed_loan(staff, amount="100000.00"),
        "small": disbursed_loan(
            {**staff, "officer": staff["officer2"]},
            amount="60000.00",
            identity=RESIDENT_IDS[1],
        ),
    }


def rows(month_end: date | None = None) -> list[tuple]:
    found = LoanMonthEnd.objects.order_by("month_end", "loan_id")
    if month_end is not None:
        found = found.filter(month_end=month_end)
    return list(found.values_list(*FIELDS))


def test_it_knows_which_month_end_a_run_looks_after():
    assert month_end_for(date(2026, 1, 31)) == JAN_31
    assert month_end_for(date(2026, 2, 1)) == JAN_31
    assert month_end_for(date(2026, 2, 7)) == JAN_31
    assert month_end_for(date(2026, 2, 8)) is None  # more than a week late: left missing
    assert month_end_for(date(2026, 2, 28)) == FEB_28
    assert month_end_for(date(2028, 2, 28)) is None  # a leap year: 29 February ends the month, not the 28th
    assert month_end_for(date(2028, 2, 29)) == date(2028, 2, 29)
    with pytest.raises(ValueError):
        month_end_snapshot(month_end=date(2026, 2, 27))


def test_the_sweep_writes_each_open_loan_on_the_last_day_of_the_month(loans, staff, product):
    big, small = loans["big"], loans["small"]
    # A second product on the small loan's application: the row keeps the product the loan was lent under.
    second = make_product("BUSINESS", name_en="Small business loan", name_zh="小微经营贷")
    Application.objects.filter(pk=small.contract.application_id).update(product=second)
    Loan.objects.filter(pk=small.pk).update(product=second)  # the loan keeps its application's
    sweep_daily(business_date=JAN_31)
    for day in range(20, 28):
        sweep_daily(business_date=date(2026, 2, day))
    # Both current on 31 January; nothing written for February before its last day.
    assert [(row[1], row[6], row[7]) for row in rows()] == [(JAN_31, 0, "current"), (JAN_31, 0, "current")]

    sweep_daily(business_date=FEB_28)

    assert rows(FEB_28) == [
        (
            big.pk,
            FEB_28,
            staff["officer"].branch_id,
            product.pk,
            staff["officer"].pk,
            "overdue",
            18,
            "1_30",
            "special_mention",
            Decimal("100000.00"),
            FEB_28,
        ),
        (
            small.pk,
            FEB_28,
            staff["officer2"].branch_id,
            second.pk,
            staff["officer2"].pk,
            "overdue",
            18,
            "1_30",
            "special_mention",
            Decimal("60000.00"),
            FEB_28,
        ),
    ]


def test_a_second_run_on_the_month_end_writes_nothing(loans):
    sweep_daily(business_date=FEB_28)
    first = rows()
    assert len(first) == 2

    assert month_end_snapshot(month_end=FEB_28) == 0
    sweep_daily(business_date=FEB_28)
    sweep_daily(business_date=date(2026, 3, 1))  # the next month's first run finds February written

    assert rows() == first


def test_it_leaves_out_loans_closed_or_not_yet_lent_at_the_month_end(loans, staff):
    Loan.objects.filter(pk=loans["small"].pk).update(
        status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 2, 20), outstanding_principal=Decimal("0.00")
    )
    disbursed_loan(
        staff,
        amount="30000.00",
        identity=RESIDENT_IDS[2],
        signed_on=date(2026, 3, 1),
        disbursed_on=date(2026, 3, 2),
        first_due_date=date(2026, 4, 2),
    )

    # The March loan is open when the run catches February up on 2 March, but was not lent on 28 February.
    sweep_daily(business_date=date(2026, 3, 2))

    assert [row[0] for row in rows()] == [loans["big"].pk]


def test_a_missed_month_end_is_written_by_the_next_months_first_run_as_the_loans_are_then(loans):
    sweep_daily(business_date=date(2026, 2, 27))
    # No run on 28 February: the first run of March writes it, with the loans as that run leaves them.
    assert sweep_daily(business_date=date(2026, 3, 1)).loans_examined == 2

    written = rows(FEB_28)
    assert [(row[0], row[6], row[-1]) for row in written] == [
        (loans["big"].pk, 19, date(2026, 3, 1)),  # 19 days past due on 1 March (18 on the month end itself)
        (loans["small"].pk, 19, date(2026, 3, 1)),
    ]
    sweep_daily(business_date=date(2026, 3, 2))
    assert rows(FEB_28) == written


def test_a_month_end_missed_by_more_than_a_week_is_left_out(loans):
    sweep_daily(business_date=date(2026, 2, 27))
    sweep_daily(business_date=date(2026, 3, 8))  # no run from 28 February to 7 March

    assert rows() == []
    assert sweep_daily(business_date=MAR_31).loans_examined == 2
    assert {row[1] for row in rows()} == {MAR_31}


def test_only_the_latest_missed_month_end_is_caught_up(loans):
    sweep_daily(business_date=date(2026, 1, 30))
    # Neither 31 January nor 28 February was swept.
    sweep_daily(business_date=date(2026, 3, 1))

    assert set(LoanMonthEnd.objects.values_list("month_end", flat=True)) == {FEB_28}


def test_a_month_end_of_an_empty_book_writes_nothing_and_a_later_loan_is_not_added(staff, product):
    sweep_daily(business_date=JAN_31)
    assert rows() == []
    disbursed_loan(
        staff,
        amount="30000.00",
        signed_on=date(2026, 2, 1),
        disbursed_on=date(2026, 2, 2),
        first_due_date=date(2026, 3, 2),
    )

    sweep_daily(business_date=date(2026, 2, 3))
    sweep_daily(business_date=FEB_28)

    assert [row[1] for row in rows()] == [FEB_28]


def test_it_is_one_statement_whatever_the_number_of_loans(loans):
    with CaptureQueriesContext(connection) as two:
        assert month_end_snapshot(month_end=JAN_31) == 2
    build_book(loans["big"], count=40, business_date=MAR_31)
    with CaptureQueriesContext(connection) as many:
        assert month_end_snapshot(month_end=MAR_31) == 42

    assert len(two.captured_queries) == len(many.captured_queries) == 1
    assert "INSERT" in many.captured_queries[0]["sql"].upper()


@pytest.mark.django_db(transaction=True)
def test_the_snapshot_of_a_large_book_takes_well_under_a_second(staff, product, capsys):
    template = disbursed_loan(staff, amount="100000.00")
    count = 5000
    build_book(template, count=count, business_date=MAR_31 + timedelta(days=1))

    started = time.monotonic()
    written = month_end_snapshot(month_end=MAR_31)
    elapsed = time.monotonic() - started

    assert written == count + 1
    assert month_end_snapshot(month_end=MAR_31) == 0
    assert elapsed < 3
    with capsys.disabled():
        print(f"\nmonth-end snapshot of {written} open loans: {elapsed:.3f} s ({connection.vendor})")
