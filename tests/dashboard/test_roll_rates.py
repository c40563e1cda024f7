"""Roll rates between aging buckets against a hand-built book: its state on 31 January and 28 February 2026, each
month end written by the sweep's own `month_end_snapshot` after the loans' columns are set to what the sweep (or a
payoff, or a write-off) would have left.

    loan  officer   31 Jan          28 Feb
    A     王芳      1–30, 100,000   31–60             rolled forward
    B     王芳      1–30,  50,000   current           cured
    C     王芳      1–30,  30,000   paid off (absent) cured
    D     王芳      1–30,  20,000   1–30              stayed
    E     王芳      current, 40,000 current           stayed
    F     王芳      current, 60,000 1–30              rolled forward
    G     刘洋      1–30,  10,000   written off       rolled forward
    H     刘洋      31–60, 80,000   1–30              improved (second product)
    S     吴刚 (SH) 1–30,  70,000   31–60             rolled forward

王芳's 1–30 loans are the issue's example: of 4, one rolled forward (25.0 %), one stayed (25.0 %), two cured
(50.0 %); by amount 100,000 + 20,000 + 80,000 of 200,000: 50.0 %, 10.0 %, 40.0 %.
"""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from dashboard.kpis import portfolio
from postloan.models import Loan, LoanMonthEnd, LoanStatus
from postloan.services.snapshots import month_end_snapshot
from tests.applications.factories import RESIDENT_IDS, make_borrower, make_product
from tests.postloan.factories import disbursed_loan
from tests.postloan.sweep_book import build_book

pytestmark = pytest.mark.django_db

JAN_31, FEB_28, MAR_31 = date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31)
JAN_FEB = (date(2026, 1, 1), date(2026, 2, 28))
D = Decimal

# loan: (officer key, amount, bucket on 31 Jan, state on 28 Feb)
PLAN = {
    "A": ("officer", "100000.00", "1_30", "31_60"),
    "B": ("officer", "50000.00", "1_30", "current"),
    "C": ("officer", "30000.00", "1_30", "paid_off"),
    "D": ("officer", "20000.00", "1_30", "1_30"),
    "E": ("officer", "40000.00", "current", "current"),
    "F": ("officer", "60000.00", "current", "1_30"),
    "G": ("officer2", "10000.00", "1_30", "written_off"),
    "H": ("officer2", "80000.00", "31_60", "1_30"),
    "S": ("other_officer", "70000.00", "1_30", "31_60"),
}
DPD = {"current": 0, "1_30": 20, "31_60": 45}


def set_state(loan: Loan, state: str) -> None:
    """The loan's columns as the sweep (or a payoff, a write-off) would have left them."""
    if state == "paid_off":
        Loan.objects.filter(pk=loan.pk).update(
            status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 2, 20), outstanding_principal=D("0.00")
        )
    elif state == "written_off":
        Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.WRITTEN_OFF)
    elif state == "current":
        Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.ACTIVE, dpd=0, bucket="current", overdue_since=None)
    else:
        Loan.objects.filter(pk=loan.pk).update(
            status=LoanStatus.OVERDUE,
            dpd=DPD[state],
            bucket=state,
            classification="special_mention",
            overdue_since=date(2026, 1, 11),
        )


@pytest.fixture
def book(staff, sh_staff, product):
    make_borrower(sh_staff["officer"], number=RESIDENT_IDS[2], name="张华")
    loans = {}
    for key, (officer, amount, _jan, _feb) in PLAN.items():
        if officer == "other_officer":
            loans[key] = disbursed_loan(sh_staff, amount=amount, identity=RESIDENT_IDS[2])
        else:
            loans[key] = disbursed_loan({**staff, "officer": staff[officer]}, amount=amount)
    second_product = make_product("BUSINESS", name_en="Small business loan", name_zh="小微经营贷")
    Application.objects.filter(pk=loans["H"].contract.application_id).update(product=second_product)
    Loan.objects.filter(pk=loans["H"].pk).update(product=second_product)  # the loan keeps its application's
    for key, (_officer, _amount, january, _february) in PLAN.items():
        set_state(loans[key], january)
    assert month_end_snapshot(month_end=JAN_31) == 9
    for key, (_officer, _amount, _january, february) in PLAN.items():
        set_state(loans[key], february)
    assert month_end_snapshot(month_end=FEB_28) == 7  # C paid off and G written off are not open
    return {"loans": loans, "second_product": second_product}


def bucket_row(result: dict, bucket: str) -> dict:
    return next(row for row in result["latest"]["rows"] if row["bucket"] == bucket)


def shares(row: dict) -> dict:
    return {move: (row[move]["count"], row[move]["percent"]) for move in ("forward", "stayed", "improved", "cured")}


def amount_shares(row: dict) -> dict:
    return {move: (row[move]["amount"], row[move]["amount_percent"]) for move in ("forward", "stayed", "cured")}


def test_one_officers_1_to_30_loans_roll_forward_stay_and_cure_as_counted_by_hand(book, staff, make_scope):
    result = portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB, officer_id=staff["officer"].pk))

    row = bucket_row(result, "1_30")
    assert (row["count"], row["amount"]) == (4, D("200000.00"))
    assert shares(row) == {
        "forward": (1, D("25.0")),
        "stayed": (1, D("25.0")),
        "improved": (0, D("0.0")),
        "cured": (2, D("50.0")),
    }
    assert amount_shares(row) == {
        "forward": (D("100000.00"), D("50.0")),
        "stayed": (D("20000.00"), D("10.0")),
        "cured": (D("80000.00"), D("40.0")),  # B current again, C paid off
    }
    current = bucket_row(result, "current")
    assert shares(current)["forward"] == (1, D("50.0"))  # F
    assert amount_shares(current)["forward"] == (D("60000.00"), D("60.0"))
    # A bucket without loans on 31 January has no rate, rather than 0 %.
    assert bucket_row(result, "91_180")["forward"]["percent"] is None


def test_the_latest_months_matrix_counts_each_move_to_its_column(book, staff, make_scope):
    result = portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB, officer_id=staff["officer"].pk))

    assert [column["state"] for column in result["to_states"]] == [
        "current",
        "1_30",
        "31_60",
        "61_90",
        "91_180",
        "181_360",
        "360_plus",
        "paid_off",
        "written_off",
    ]
    to = {cell["state"]: cell["count"] for cell in bucket_row(result, "1_30")["to"]}
    assert to == {
        "current": 1,
        "1_30": 1,
        "31_60": 1,
        "61_90": 0,
        "91_180": 0,
        "181_360": 0,
        "360_plus": 0,
        "paid_off": 1,
        "written_off": 0,
    }
    amounts = {cell["state"]: cell["amount"] for cell in bucket_row(result, "1_30")["to"]}
    assert amounts["paid_off"] == D("30000.00")  # what C owed on 31 January


def test_the_months_are_the_month_ends_of_the_period_and_the_latest_with_data(book, staff, make_scope):
    result = portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB))

    assert [
        (month["label"], month["previous"], month["month_end"], month["available"]) for month in result["months"]
    ] == [
        ("2026-01", date(2025, 12, 31), JAN_31, False),  # no snapshot of 31 December
        ("2026-02", JAN_31, FEB_28, True),
    ]
    assert result["latest"]["month_end"] == FEB_28
    # Only the last `months` pairs of a long period.
    assert [
        month["label"] for month in portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB), months=1)["months"]
    ] == ["2026-02"]


def test_a_month_end_not_yet_taken_is_left_out_not_counted_as_everything_paid_off(book, staff, make_scope):
    result = portfolio.roll_rates(make_scope(staff["manager"], date(2026, 1, 1), MAR_31))

    march = result["months"][-1]
    assert (march["label"], march["available"]) == ("2026-03", False)
    assert all(row["count"] == 0 for row in march["rows"])
    assert result["latest"]["month_end"] == FEB_28


def test_a_branch_manager_counts_the_branch_and_a_write_off_as_a_roll_forward(book, staff, make_scope):
    beijing = portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB))

    row = bucket_row(beijing, "1_30")  # A, B, C, D and G; never Shanghai's S
    assert row["count"] == 5
    assert shares(row) == {
        "forward": (2, D("40.0")),  # A, and G written off
        "stayed": (1, D("20.0")),
        "improved": (0, D("0.0")),
        "cured": (2, D("40.0")),
    }
    # 110,000 of 210,000 = 52.38… %
    assert amount_shares(row)["forward"] == (D("110000.00"), D("52.4"))
    assert shares(bucket_row(beijing, "31_60"))["improved"] == (1, D("100.0"))  # H
    # asking for Shanghai does not widen a Beijing manager's scope
    asking = make_scope(staff["manager"], *JAN_FEB, branch_id=staff["other_manager"].branch_id)
    assert portfolio.roll_rates(asking) == beijing

    shanghai = portfolio.roll_rates(make_scope(staff["other_manager"], *JAN_FEB))
    assert shares(bucket_row(shanghai, "1_30"))["forward"] == (1, D("100.0"))
    assert bucket_row(shanghai, "current")["count"] == 0


def test_head_office_counts_every_branch_or_the_one_it_picks(book, staff, make_scope):
    everything = portfolio.roll_rates(make_scope(staff["hq_manager"], *JAN_FEB))
    assert shares(bucket_row(everything, "1_30"))["forward"] == (3, D("50.0"))  # A, G and S of 6

    bj_id = staff["manager"].branch_id
    picked = portfolio.roll_rates(make_scope(staff["hq_manager"], *JAN_FEB, branch_id=bj_id))
    assert picked == portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB))


def test_the_product_filter(book, staff, make_scope):
    result = portfolio.roll_rates(make_scope(staff["manager"], *JAN_FEB, product_id=book["second_product"].pk))

    assert [(row["bucket"], row["count"]) for row in result["latest"]["rows"] if row["count"]] == [("31_60", 1)]


def test_it_is_one_query_whatever_the_number_of_loans(book, staff, make_scope):
    scope = make_scope(staff["hq_manager"], *JAN_FEB)
    portfolio.roll_rates(scope)  # the viewer's branch is loaded once, before counting
    with CaptureQueriesContext(connection) as few:
        portfolio.roll_rates(scope)

    ids = build_book(book["loans"]["A"], count=30, business_date=date(2026, 3, 1))
    extra = []
    for loan in Loan.objects.filter(pk__in=ids).select_related("contract__application"):
        for month_end, bucket in ((JAN_31, "current"), (FEB_28, "1_30")):
            extra.append(
                LoanMonthEnd(
                    loan=loan,
                    month_end=month_end,
                    branch_id=loan.branch_id,
                    product_id=loan.product_id,
                    officer_id=loan.officer_id,
                    status="active",
                    dpd=0,
                    bucket=bucket,
                    classification="normal",
                    outstanding_principal=loan.outstanding_principal,
                    taken_on=month_end,
                )
            )
    LoanMonthEnd.objects.bulk_create(extra)
    with CaptureQueriesContext(connection) as many:
        result = portfolio.roll_rates(scope)

    assert bucket_row(result, "current")["count"] == 2 + 30
    assert len(few.captured_queries) == len(many.captured_queries) == 1


# --- the page -------------------------------------------------------------------------------------------------------
def login_in_english(client, user) -> None:
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    client.force_login(user)


def test_the_portfolio_tab_shows_the_line_chart_and_the_latest_months_table(client, book, staff):
    login_in_english(client, staff["manager"])
    response = client.get(
        reverse("dashboard:tab", args=["portfolio"]),
        {"date_from": "2026-01-01", "date_to": "2026-02-28", "officer": staff["officer"].pk},
    )
    page = response.content.decode()

    assert "A roll rate is the share of the loans in an aging bucket at one month end" in page
    chart = next(chart for chart in response.context["charts"] if chart.id == "chart-roll-rates")
    assert chart.kind == "line"
    assert chart.labels == ["2026-01", "2026-02"]
    # One line per bucket, in the buckets' order: current, 1–30, 31–60, …
    assert [series.label for series in chart.series][:2] == ["Current", "1–30 days past due"]
    forward = [series.values for series in chart.series]
    assert len(forward) == 7
    assert forward[0] == [None, D("50.0")]  # current: F of E and F
    assert forward[1] == [None, D("25.0")]  # 1–30: A of A, B, C and D
    assert forward[2] == [None, None]  # 31–60: none of 王芳's loans on 31 January
    assert 'data-testid="roll-matrix"' in page
    assert 'data-testid="roll-row-1_30"' in page
    assert 'data-testid="roll-row-61_90"' not in page  # no loans there on 31 January
    assert "Loans by bucket on 2026-01-31 (rows) and on 2026-02-28 (columns)" in page


def test_without_month_ends_the_tab_says_why_the_roll_rates_are_empty(client, staff, product):
    login_in_english(client, staff["manager"])
    page = client.get(reverse("dashboard:tab", args=["portfolio"])).content.decode()

    assert 'data-testid="roll-rates-empty"' in page
    assert "roll rates need two month ends in a row" in page
    assert 'data-testid="roll-matrix"' not in page
    assert LoanMonthEnd.objects.count() == 0
