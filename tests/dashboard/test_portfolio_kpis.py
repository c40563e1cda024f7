"""Portfolio KPIs against a hand-built book, looked at on 20 May 2026.

The loans are made through the post-loan factories (application approved, contract signed, money disbursed by the
services: 6 % a year, 12 months, equal principal, so installment k of a loan of P owes P/12 principal and
(P − (k−1)·P/12) × 0.5 % interest). Nothing is repaid. Where the story needs a loan overdue, paid off or in a
worse category, its columns (status, dpd, bucket, classification, outstanding principal) are then set with
queryset.update() to what the daily sweep or a payoff would have left — the installments themselves are the
services' own, so the overdue amounts below are computed from the real schedule.

    L1  BJ ¥120,000.00 李明, disbursed 10 Jan, first due 10 Feb: 4 installments past due (Feb–May) =
        40,000 + 600 + 550 + 500 + 450 = ¥42,100.00; 99 days past due, 91–180, substandard
    L2  BJ ¥90,000.00 李明 (officer 刘洋), disbursed 8 Apr, first due 10 May: 1 past due = 7,500 + 450 =
        ¥7,950.00; 10 days past due, 1–30, special mention
    L3  BJ ¥200,000.00 李明, disbursed 12 May, first due 12 Jun: current, normal (its application moved to the
        second product)
    L4  BJ ¥60,000.00 王五, disbursed 10 Jan, first due 10 Feb: 4 past due = 20,000 + 300 + 275 + 250 + 225 =
        ¥21,050.00; 99 days past due, 91–180, loss (a manual classification)
    L5  BJ ¥30,000.00 李明, disbursed 10 Jan, paid off on 1 May
    S1  SH ¥150,000.00 张华, disbursed 10 Jan, first due 10 Feb: 4 past due = 50,000 + 750 + 687.50 + 625 +
        562.50 = ¥52,625.00; 99 days past due, 91–180, doubtful
"""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications.models import Application
from dashboard.kpis import portfolio
from postloan.models import Loan
from tests.applications.factories import RESIDENT_IDS, make_borrower, make_product
from tests.postloan.factories import disbursed_loan, mark_overdue, on

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)
JAN_TO_MAY = (date(2026, 1, 1), date(2026, 5, 31))


def overdue(loan: Loan, *, dpd: int, bucket: str, classification: str, since: date, **more) -> None:
    mark_overdue(loan, today=TODAY, dpd=dpd, bucket=bucket, classification=classification, overdue_since=since, **more)


@pytest.fixture
def book(staff, sh_staff, product):
    make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王五")
    make_borrower(sh_staff["officer"], number=RESIDENT_IDS[2], name="张华")
    second_officer = {**staff, "officer": staff["officer2"]}
    loans = {
        "L1": disbursed_loan(staff, amount="120000.00"),
        "L2": disbursed_loan(
            second_officer,
            amount="90000.00",
            signed_on=date(2026, 4, 6),
            disbursed_on=date(2026, 4, 8),
            first_due_date=date(2026, 5, 10),
        ),
        "L3": disbursed_loan(
            staff,
            amount="200000.00",
            signed_on=date(2026, 5, 10),
            disbursed_on=date(2026, 5, 12),
            first_due_date=date(2026, 6, 12),
        ),
        "L4": disbursed_loan(staff, amount="60000.00", identity=RESIDENT_IDS[1]),
        "L5": disbursed_loan(staff, amount="30000.00"),
        "S1": disbursed_loan(sh_staff, amount="150000.00", identity=RESIDENT_IDS[2]),
    }
    overdue(loans["L1"], dpd=99, bucket="91_180", classification="substandard", since=date(2026, 2, 11))
    overdue(loans["L2"], dpd=10, bucket="1_30", classification="special_mention", since=date(2026, 5, 11))
    overdue(
        loans["L4"],
        dpd=99,
        bucket="91_180",
        classification="loss",
        manual_classification="loss",
        since=date(2026, 2, 11),
    )
    Loan.objects.filter(pk=loans["L5"].pk).update(
        status="paid_off", paid_off_on=date(2026, 5, 1), outstanding_principal=Decimal("0.00")
    )
    overdue(loans["S1"], dpd=99, bucket="91_180", classification="doubtful", since=date(2026, 2, 11))
    # Made after the loans, or the factories (which take the first product by code) would have used it.
    second_product = make_product("BUSINESS", name_en="Small business loan", name_zh="小微经营贷")
    Application.objects.filter(pk=loans["L3"].contract.application_id).update(product=second_product)
    Loan.objects.filter(pk=loans["L3"].pk).update(product=second_product)  # the loan keeps its application's
    return {"loans": loans, "second_product": second_product, "staff": staff}


@pytest.fixture
def today(book):
    """The clock on 20 May 2026, after the book is made."""
    with on(TODAY):
        yield TODAY


def by_key(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


def without_list_drills(value):
    """A KPI's result without its links to list pages (the links to one loan's page stay)."""
    if isinstance(value, dict):
        return {
            key: without_list_drills(item)
            for key, item in value.items()
            if not (key.endswith("drill") and not re.fullmatch(r"/loans/\d+/", item))
        }
    if isinstance(value, list):
        return [without_list_drills(item) for item in value]
    return value


def test_the_schedule_is_the_one_the_hand_counts_assume(book, today):
    first = Loan.objects.get(pk=book["loans"]["L1"].pk).current_installments()[0]
    assert (first.due_date, first.principal_due, first.interest_due) == (
        date(2026, 2, 10),
        Decimal("10000.00"),
        Decimal("600.00"),
    )


def test_disbursements_by_month_in_the_period(book, staff, make_scope, today):
    result = portfolio.disbursed_by_month(make_scope(staff["manager"], *JAN_TO_MAY))

    assert [(row["month"], row["count"], row["amount"]) for row in result["months"]] == [
        (date(2026, 1, 1), 3, Decimal("210000.00")),  # L1, L4, L5 (paid off since: still lent in January)
        (date(2026, 2, 1), 0, Decimal("0.00")),
        (date(2026, 3, 1), 0, Decimal("0.00")),
        (date(2026, 4, 1), 1, Decimal("90000.00")),
        (date(2026, 5, 1), 1, Decimal("200000.00")),
    ]
    assert (result["count"], result["amount"]) == (5, Decimal("500000.00"))
    april = portfolio.disbursed_by_month(make_scope(staff["manager"], date(2026, 4, 8), date(2026, 5, 11)))
    assert (april["count"], april["amount"]) == (1, Decimal("90000.00"))  # 12 May is outside


def test_outstanding_principal_of_open_loans(book, staff, make_scope, today):
    result = portfolio.outstanding(make_scope(staff["manager"], *JAN_TO_MAY))

    # L1 + L2 + L3 + L4; L5 is paid off
    assert (result["count"], result["amount"]) == (4, Decimal("470000.00"))
    rows = by_key(result["by_status"], "status")
    assert (rows["active"]["count"], rows["active"]["amount"]) == (1, Decimal("200000.00"))
    assert (rows["overdue"]["count"], rows["overdue"]["amount"]) == (3, Decimal("270000.00"))
    assert rows["overdue"]["label"] == "Overdue"
    assert rows["overdue"]["drill"] == "/loans/?show=branch&status=overdue"


def test_overdue_count_and_past_due_amount_per_bucket(book, staff, make_scope, today):
    result = portfolio.overdue_by_bucket(make_scope(staff["manager"], *JAN_TO_MAY))

    buckets = by_key(result["buckets"], "bucket")
    assert "current" not in buckets
    assert [row["bucket"] for row in result["buckets"]] == ["1_30", "31_60", "61_90", "91_180", "181_360", "360_plus"]
    assert (buckets["1_30"]["count"], buckets["1_30"]["amount"]) == (1, Decimal("7950.00"))  # L2
    assert (buckets["91_180"]["count"], buckets["91_180"]["amount"]) == (2, Decimal("63150.00"))  # L1 + L4
    assert (buckets["31_60"]["count"], buckets["31_60"]["amount"]) == (0, Decimal("0.00"))
    assert (result["count"], result["amount"]) == (3, Decimal("71100.00"))
    assert buckets["31_60"]["drill"] == "/loans/overdue/?bucket=31_60"
    assert buckets["31_60"]["label"] == "31–60 days past due"


def test_five_categories_by_count_and_outstanding(book, staff, make_scope, today):
    result = portfolio.classification(make_scope(staff["manager"], *JAN_TO_MAY))

    assert [(row["classification"], row["count"], row["amount"]) for row in result["categories"]] == [
        ("normal", 1, Decimal("200000.00")),  # L3 (L5, paid off, is not on the book)
        ("special_mention", 1, Decimal("90000.00")),
        ("substandard", 1, Decimal("120000.00")),
        ("doubtful", 0, Decimal("0.00")),
        ("loss", 1, Decimal("60000.00")),
    ]
    assert (result["count"], result["amount"]) == (4, Decimal("470000.00"))
    loss = by_key(result["categories"], "classification")["loss"]
    # The open loans of the class: a paid-off loan keeps its last class but is not on the book.
    assert (loss["label"], loss["drill"]) == ("Loss", "/loans/?show=branch&status=open&classification=loss")


def test_npl_ratio_is_substandard_doubtful_and_loss_over_outstanding(book, staff, make_scope, today):
    result = portfolio.npl_ratio(make_scope(staff["manager"], *JAN_TO_MAY))

    # (120,000 substandard + 60,000 loss) / 470,000 = 38.297… %
    assert result == {
        "npl_amount": Decimal("180000.00"),
        "npl_count": 2,
        "outstanding": Decimal("470000.00"),
        "ratio": Decimal("38.3"),
        "drill": "/loans/?show=branch&status=open&classification=npl",
    }


def test_npl_ratio_of_an_empty_book_is_none(db, staff, make_scope):
    assert portfolio.npl_ratio(make_scope(staff["manager"], *JAN_TO_MAY))["ratio"] is None


def test_top_overdue_loans_largest_past_due_first(book, staff, make_scope, today):
    loans = book["loans"]
    result = portfolio.top_overdue(make_scope(staff["manager"], *JAN_TO_MAY))["loans"]

    assert [(row["number"], row["borrower"], row["dpd"], row["bucket"], row["amount"]) for row in result] == [
        (loans["L1"].number, "李明", 99, "91_180", Decimal("42100.00")),
        (loans["L4"].number, "王五", 99, "91_180", Decimal("21050.00")),
        (loans["L2"].number, "李明", 10, "1_30", Decimal("7950.00")),
    ]
    assert result[0]["drill"] == f"/loans/{loans['L1'].pk}/"
    assert result[2]["bucket_label"] == "1–30 days past due"
    assert [
        row["number"] for row in portfolio.top_overdue(make_scope(staff["manager"], *JAN_TO_MAY), limit=1)["loans"]
    ] == [loans["L1"].number]


def test_product_and_officer_filters(book, staff, make_scope, today):
    second = make_scope(staff["manager"], *JAN_TO_MAY, product_id=book["second_product"].pk)
    assert (portfolio.outstanding(second)["count"], portfolio.outstanding(second)["amount"]) == (
        1,
        Decimal("200000.00"),
    )
    assert portfolio.disbursed_by_month(second)["count"] == 1
    assert portfolio.npl_ratio(second)["ratio"] == Decimal("0.0")

    officer2 = make_scope(staff["manager"], *JAN_TO_MAY, officer_id=staff["officer2"].pk)
    assert portfolio.overdue_by_bucket(officer2)["amount"] == Decimal("7950.00")
    assert [row["amount"] for row in portfolio.top_overdue(officer2)["loans"]] == [Decimal("7950.00")]
    special = by_key(portfolio.classification(officer2)["categories"], "classification")["special_mention"]
    assert special["drill"] == (
        f"/loans/?show=branch&status=open&classification=special_mention&officer={staff['officer2'].pk}"
    )


# --- branch scope -----------------------------------------------------------------------------------------------------
def test_a_branch_manager_never_counts_another_branchs_loans(book, staff, make_scope, today):
    shanghai = make_scope(staff["other_manager"], *JAN_TO_MAY)
    assert portfolio.outstanding(shanghai)["amount"] == Decimal("150000.00")
    assert portfolio.npl_ratio(shanghai)["ratio"] == Decimal("100.0")
    assert [row["number"] for row in portfolio.top_overdue(shanghai)["loans"]] == [book["loans"]["S1"].number]

    beijing = make_scope(staff["manager"], *JAN_TO_MAY)
    assert book["loans"]["S1"].number not in [row["number"] for row in portfolio.top_overdue(beijing)["loans"]]
    assert by_key(portfolio.overdue_by_bucket(beijing)["buckets"], "bucket")["91_180"]["count"] == 2
    # asking for Shanghai does not widen a Beijing manager's scope
    asking = make_scope(staff["manager"], *JAN_TO_MAY, branch_id=staff["other_manager"].branch_id)
    assert portfolio.outstanding(asking) == portfolio.outstanding(beijing)


def test_head_office_counts_every_branch_or_the_one_it_picks(book, staff, make_scope, today):
    everything = make_scope(staff["hq_manager"], *JAN_TO_MAY)
    assert (portfolio.outstanding(everything)["count"], portfolio.outstanding(everything)["amount"]) == (
        5,
        Decimal("620000.00"),
    )
    # (120,000 + 60,000 + 150,000) / 620,000 = 53.225… %
    assert portfolio.npl_ratio(everything)["ratio"] == Decimal("53.2")
    buckets = by_key(portfolio.overdue_by_bucket(everything)["buckets"], "bucket")
    assert (buckets["91_180"]["count"], buckets["91_180"]["amount"]) == (3, Decimal("115775.00"))
    assert portfolio.top_overdue(everything)["loans"][0]["amount"] == Decimal("52625.00")
    assert portfolio.disbursed_by_month(everything)["months"][0]["count"] == 4

    bj_id = staff["manager"].branch_id
    beijing = make_scope(staff["hq_manager"], *JAN_TO_MAY, branch_id=bj_id)
    own = make_scope(staff["manager"], *JAN_TO_MAY)
    for name in ("disbursed_by_month", "overdue_by_bucket", "npl_ratio", "top_overdue"):
        # The same figures; head office's drill-downs (but a loan's own page) also name the branch it picked.
        assert without_list_drills(getattr(portfolio, name)(beijing)) == without_list_drills(
            getattr(portfolio, name)(own)
        ), name
    # the picked branch is carried to the loan list's own branch filter
    normal = by_key(portfolio.classification(beijing)["categories"], "classification")["normal"]
    assert (normal["count"], normal["drill"]) == (
        1,
        f"/loans/?show=branch&status=open&classification=normal&branch={bj_id}",
    )
    assert portfolio.overdue_by_bucket(beijing)["drill"] == f"/loans/overdue/?branch={bj_id}"


# --- cost -------------------------------------------------------------------------------------------------------------
KPIS = ("disbursed_by_month", "outstanding", "overdue_by_bucket", "classification", "npl_ratio", "top_overdue")


def queries_per_kpi(scope) -> dict[str, int]:
    counts = {}
    for name in KPIS:
        with CaptureQueriesContext(connection) as queries:
            getattr(portfolio, name)(scope)
        counts[name] = len(queries)
    return counts


def test_each_kpi_is_one_query_whatever_the_number_of_loans(book, staff, make_scope, today):
    scope = make_scope(staff["manager"], *JAN_TO_MAY)
    portfolio.outstanding(scope)  # the manager's branch is loaded once, before counting
    before = queries_per_kpi(scope)

    for amount in ("40000.00", "50000.00", "70000.00"):
        loan = disbursed_loan(staff, amount=amount)
        overdue(loan, dpd=99, bucket="91_180", classification="substandard", since=date(2026, 2, 11))
    assert portfolio.overdue_by_bucket(scope)["count"] == 6

    assert queries_per_kpi(scope) == before
    assert before == dict.fromkeys(KPIS, 1)
