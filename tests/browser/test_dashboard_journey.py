"""The manager's dashboard in a real browser: charts drawn, the table under a chart, the branch filter, a drill-down
to the overdue list, and a branch manager who sees only their own branch.

The book, made through the post-loan factories on days counted back from today (the live server runs on the real
clock), 6 % a year over 12 months, equal principal, nothing repaid:

    Beijing   ¥120,000.00, first due 40–43 days ago (on a 1st–28th), second due a month later: both past due =
              10,000 + 600 + 10,000 + 550 = ¥21,150.00; set overdue as the sweep would, bucket 31–60
    Shanghai  ¥80,000.00, disbursed 5 days ago, first due in 25 days: current

Screenshots at desktop and phone sizes go to artifacts/screenshots/dashboard-<language>-<tab>-*.png.
"""

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest

from accounts.roles import Role
from core.dates import add_months, local_today
from tests.applications.factories import RESIDENT_IDS, make_borrower, make_product
from tests.postloan.factories import disbursed_loan, mark_overdue

from .test_loan_journey import click_and_wait, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BEIJING_OVERDUE = "¥21,150.00"
CHARTS_DRAWN = """count => {
    const canvases = [...document.querySelectorAll("canvas[data-chart]")];
    return canvases.length === count && typeof Chart !== "undefined"
        && canvases.every(canvas => canvas.width > 0 && canvas.height > 0 && Chart.getChart(canvas) !== undefined);
}"""


@pytest.fixture
def book(branches, make_user, settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    limit = Decimal("500000.00")

    def staff(branch, suffix):
        return {
            "officer": make_user(f"officer_{suffix}", Role.OFFICER, branch=branch, display_name=f"信贷员{suffix}"),
            "reviewer": make_user(f"reviewer_{suffix}", Role.REVIEWER, branch=branch),
            "approver": make_user(f"approver_{suffix}", Role.APPROVER, branch=branch, approval_limit=limit),
            "manager": make_user(f"manager_{suffix}", Role.MANAGER, branch=branch, display_name=f"经理{suffix}"),
        }

    beijing_staff, shanghai_staff = staff(branches["BJ"], "bj"), staff(branches["SH"], "sh")
    hq_manager = make_user("manager_hq", Role.MANAGER, branch=branches["HQ"], display_name="马超")

    today = local_today()
    first_due = today - timedelta(days=40)
    first_due -= timedelta(days=max(first_due.day - 28, 0))  # a day every month has: a whole first month
    disbursed_on = add_months(first_due, -1)
    beijing = disbursed_loan(
        beijing_staff,
        amount="120000.00",
        signed_on=disbursed_on - timedelta(days=2),
        disbursed_on=disbursed_on,
        first_due_date=first_due,
    )
    # What the daily sweep would have left: overdue since the day after the first due date.
    mark_overdue(
        beijing,
        today=today,
        dpd=(today - first_due).days,
        bucket="31_60",
        overdue_since=first_due + timedelta(days=1),
    )
    make_borrower(shanghai_staff["officer"], number=RESIDENT_IDS[2], name="张华", address="上海市浦东新区世纪大道1号")
    shanghai = disbursed_loan(
        shanghai_staff,
        amount="80000.00",
        identity=RESIDENT_IDS[2],
        signed_on=today - timedelta(days=7),
        disbursed_on=today - timedelta(days=5),
        first_due_date=today + timedelta(days=25),
    )
    assert beijing.branch == branches["BJ"] and shanghai.branch == branches["SH"]
    return {
        "beijing": beijing,
        "shanghai": shanghai,
        "hq_manager": hq_manager,
        "bj_manager": beijing_staff["manager"],
        "date_from": (disbursed_on - timedelta(days=30)).isoformat(),
    }


# Disbursed by month, overdue by bucket, the five categories and the roll rates.
PORTFOLIO_CHARTS = 4


def wait_for_charts(page, count: int) -> None:
    page.wait_for_function(CHARTS_DRAWN, arg=count)


def figure(page, testid: str) -> str:
    return page.locator(f"[data-testid={testid}]").inner_text()


def overdue_row(page):
    """The 31–60 row of the table under the overdue chart (its label links to that bucket's overdue list)."""
    return page.locator("[data-testid=table-chart-overdue] tr").filter(has=page.locator('a[href*="bucket=31_60"]'))


def open_overdue_table(page):
    table = page.locator("[data-testid=table-chart-overdue]")
    assert not table.is_visible()  # folded once the chart is drawn
    page.locator("[data-testid=toggle-chart-overdue]").click()
    table.wait_for(state="visible")
    return table


def test_head_office_reads_the_portfolio_filters_by_branch_and_drills_into_a_bucket(
    book, live_server, page, screenshot
):
    beijing = book["beijing"]
    portfolio_url = f"{live_server.url}/dashboard/portfolio/?date_from={book['date_from']}"

    # --- 1. the portfolio in Chinese (the user's stored language), then in English from the language menu ----------
    sign_in(page, live_server, book["hq_manager"])
    page.goto(portfolio_url)
    wait_for_charts(page, PORTFOLIO_CHARTS)
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert "¥200,000.00" in figure(page, "figure-outstanding")
    assert BEIJING_OVERDUE in figure(page, "figure-overdue")
    assert "¥200,000.00" in figure(page, "figure-disbursed")
    assert beijing.number in page.locator("[data-testid=top-overdue]").inner_text()
    screenshot(page, "dashboard-zh-hans-portfolio")

    click_and_wait(page, "[data-testid=language-en]")
    wait_for_charts(page, PORTFOLIO_CHARTS)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Dashboard"
    assert "Outstanding principal" in figure(page, "figure-outstanding")
    assert "¥200,000.00" in figure(page, "figure-outstanding")
    screenshot(page, "dashboard-en-portfolio")

    # --- 2. the table under the overdue chart ---------------------------------------------------------------------
    open_overdue_table(page)
    row = overdue_row(page)
    assert row.locator("th").inner_text() == "31–60 days past due"
    assert row.locator("td").all_inner_texts() == [BEIJING_OVERDUE, "1"]

    # --- 3. Shanghai only: the Beijing loan no longer counts ------------------------------------------------------
    page.locator("[data-testid=dashboard-filters] select[name=branch]").select_option(label="Shanghai Pudong Branch")
    click_and_wait(page, "[data-testid=apply-filters]")
    wait_for_charts(page, PORTFOLIO_CHARTS)
    assert page.locator("input[name=date_from]").input_value() == book["date_from"]
    assert "¥80,000.00" in figure(page, "figure-outstanding")
    assert "¥0.00" in figure(page, "figure-overdue")
    assert "¥80,000.00" in figure(page, "figure-disbursed")
    open_overdue_table(page)
    assert overdue_row(page).locator("td").all_inner_texts() == ["¥0.00", "0"]
    top = page.locator("[data-testid=top-overdue]").inner_text()
    assert beijing.number not in top and "No overdue loans." in top
    screenshot(page, "dashboard-en-portfolio-shanghai")

    # --- 4. every branch again, then the 31–60 row leads to that bucket's overdue list ----------------------------
    page.locator("select[name=branch]").select_option(label="All branches")
    click_and_wait(page, "[data-testid=apply-filters]")
    wait_for_charts(page, PORTFOLIO_CHARTS)
    assert BEIJING_OVERDUE in figure(page, "figure-overdue")
    open_overdue_table(page)
    with page.expect_navigation():
        overdue_row(page).locator("a").click()
    landed = urlparse(page.url)
    assert (landed.path, parse_qs(landed.query)) == ("/loans/overdue/", {"bucket": ["31_60"]})
    rows = page.locator("[data-testid=overdue-row]")
    assert rows.count() == 1
    assert beijing.number in rows.inner_text() and BEIJING_OVERDUE in rows.inner_text()
    assert page.locator("[data-testid=total-count]").inner_text() == "(1)"
    screenshot(page, "dashboard-en-overdue-31-60")

    # --- 6. the pipeline tab draws its charts too -----------------------------------------------------------------
    page.goto(f"{live_server.url}/dashboard/?date_from={book['date_from']}")
    wait_for_charts(page, 3)
    assert page.locator("[data-testid=figure-submitted] .figure-value").inner_text() == "2"
    screenshot(page, "dashboard-en-pipeline")


def test_a_branch_manager_sees_only_their_branch(book, live_server, page, screenshot):
    # --- 5. Beijing's manager: no branch filter, Beijing's figures only -------------------------------------------
    sign_in(page, live_server, book["bj_manager"])
    page.goto(f"{live_server.url}/dashboard/portfolio/?date_from={book['date_from']}")
    wait_for_charts(page, PORTFOLIO_CHARTS)
    filters = page.locator("[data-testid=dashboard-filters]")
    assert filters.locator("select[name=officer]").is_visible()
    assert filters.locator("select[name=branch]").count() == 0
    assert "上海浦东支行" not in filters.inner_text() and "Shanghai Pudong Branch" not in filters.inner_text()
    outstanding = figure(page, "figure-outstanding")
    assert "¥120,000.00" in outstanding and "¥200,000.00" not in outstanding
    assert "¥120,000.00" in figure(page, "figure-disbursed")
    assert BEIJING_OVERDUE in figure(page, "figure-overdue")
    assert book["shanghai"].number not in page.locator("main").inner_text()
    screenshot(page, "dashboard-zh-hans-portfolio-beijing")

    # --- 6. the pipeline tab, from the tab bar (the period carries over) -----------------------------------------
    click_and_wait(page, "[data-testid=tab-pipeline]")
    wait_for_charts(page, 3)
    assert page.locator("input[name=date_from]").input_value() == book["date_from"]
    assert page.locator("[data-testid=figure-submitted] .figure-value").inner_text() == "1"
    screenshot(page, "dashboard-zh-hans-pipeline")
