"""The dashboard pages: who may open them, the branch scope of what they show, a constant number of queries, the
drill-down links, and the weekly summary e-mail to managers."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from applications.models import Application
from dashboard.reports import weekly_summary_sweep
from notifications.models import OutboxMessage
from postloan.models import Loan
from tests.applications.factories import RESIDENT_IDS, make_application, make_borrower
from tests.postloan.factories import disbursed_loan

TABS = ["pipeline", "portfolio", "followups", "service", "workload"]


def _url(tab: str) -> str:
    return reverse("dashboard:home") if tab == "pipeline" else reverse("dashboard:tab", args=[tab])


def test_managers_open_every_tab_and_others_are_refused(client, staff):
    client.force_login(staff["manager"])
    assert {tab: client.get(_url(tab)).status_code for tab in TABS} == dict.fromkeys(TABS, 200)
    assert client.get(reverse("dashboard:tab", args=["nonsense"])).status_code == 404
    client.force_login(staff["officer"])
    assert client.get(_url("portfolio")).status_code == 403
    client.logout()
    assert client.get(_url("portfolio"))["Location"].startswith(reverse("accounts:login"))


def _drafts(staff, officer_key: str, count: int, identity: str):
    officer = staff[officer_key]
    borrower = make_borrower(officer, number=identity, mobile="13700001111")
    for number in range(count):
        make_application(officer, borrower=borrower, amount=f"{10000 + number}.00")


def test_a_branch_manager_sees_only_the_branch_and_head_office_all_or_one(client, staff, branches):
    _drafts(staff, "officer", 2, RESIDENT_IDS[1])
    _drafts(staff, "other_officer", 3, RESIDENT_IDS[2])
    client.force_login(staff["manager"])
    # A Beijing manager asking for Shanghai still gets Beijing: the branch field is not even offered.
    page = client.get(_url("pipeline"), {"branch": branches["SH"].pk}).content.decode()
    assert 'name="branch"' not in page
    assert Application.objects.count() == 5
    assert client.get(_url("pipeline")).context["statuses"]["total"] == 2
    client.force_login(staff["hq_manager"])
    assert client.get(_url("pipeline")).context["statuses"]["total"] == 5
    assert client.get(_url("pipeline"), {"branch": branches["SH"].pk}).context["statuses"]["total"] == 3


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, {"date_from": "2025-01-01"}).status_code == 200
    return len(captured)


def test_each_tab_costs_the_same_queries_with_more_rows(client, staff, product):
    client.force_login(staff["hq_manager"])
    disbursed_loan(staff)
    _drafts(staff, "officer", 1, RESIDENT_IDS[1])
    before = {tab: _queries(client, _url(tab)) for tab in TABS}
    _drafts(staff, "other_officer", 6, RESIDENT_IDS[2])
    disbursed_loan(staff, identity=RESIDENT_IDS[3])
    after = {tab: _queries(client, _url(tab)) for tab in TABS}
    assert after == before
    assert max(after.values()) <= 20


def test_the_overdue_bucket_links_to_its_loans(client, staff, product):
    loan = disbursed_loan(staff)
    Loan.objects.filter(pk=loan.pk).update(status="overdue", bucket="31_60", dpd=40, overdue_since=date(2026, 2, 10))
    client.force_login(staff["manager"])
    page = client.get(_url("portfolio"), {"date_from": "2025-01-01"}).content.decode()
    drill = reverse("postloan:overdue") + "?bucket=31_60"
    assert f'href="{drill}"' in page
    overdue = client.get(drill).content.decode()
    assert loan.number in overdue


def test_the_weekly_summary_goes_once_to_each_manager_with_their_figures(staff, product):
    for key in ("manager", "other_manager", "hq_manager"):
        staff[key].email = f"{key}@example.com"
        staff[key].save(update_fields=["email"])
    disbursed_loan(staff)
    written = weekly_summary_sweep(today=date(2026, 11, 30))
    again = weekly_summary_sweep(today=date(2026, 12, 2))  # same ISO week
    messages = OutboxMessage.objects.filter(template="weekly_portfolio_summary")
    assert written == messages.count() == 3
    assert again == 0
    beijing = messages.get(recipient=staff["manager"]).context
    assert beijing["open_loans"] == 1
    assert beijing["outstanding"] == "¥120,000.00"
    shanghai = messages.get(recipient=staff["other_manager"]).context
    assert shanghai["open_loans"] == 0
