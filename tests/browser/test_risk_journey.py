"""Manual classification and restructuring of a running loan, in a real browser.

A risk officer proposes a worse class, a manager approves it from the list of proposals; the officer requests a
restructuring after seeing the old and new schedules side by side; the risk officer and the manager approve it and
the loan's page shows schedule version 2. Screenshots of every step at desktop and phone sizes go to
artifacts/screenshots/.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from core.dates import local_today
from postloan import services
from postloan.models import ClassificationProposal, Loan, Restructuring
from tests.applications.factories import make_product
from tests.postloan.factories import prepare_disbursement, signed_contract

from .test_loan_journey import click_and_wait, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(branches, make_user):
    bj = branches["BJ"]

    def person(username, role, name, **fields):
        return make_user(username, role, branch=bj, display_name=name, preferred_language="en", **fields)

    return {
        "officer": person("officer_r", Role.OFFICER, "王敏"),
        "reviewer": person("reviewer_r", Role.REVIEWER, "王静"),
        "approver": person("approver_r", Role.APPROVER, "王强", approval_limit=Decimal("500000.00")),
        "manager": person("manager_r", Role.MANAGER, "赵经理"),
        "risk": person("risk_r", Role.RISK_OFFICER, "钱风控"),
    }


@pytest.fixture
def loan(people, settings) -> Loan:
    """A loan disbursed today: ¥100,000.00 over 12 months, equal installments, first due in 20 days."""
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    today = local_today()
    contract = signed_contract(
        people,
        first_due_date=today + timedelta(days=20),
        amount="100000.00",
        term_months=12,
        method="equal_installment",
    )
    disbursement = prepare_disbursement(people, contract, disbursed_on=today)
    return services.disbursement_confirm(disbursement=disbursement, by=people["manager"])


def test_a_loan_is_classified_worse_and_restructured_after_two_approvals(people, loan, live_server, page, screenshot):
    shot = "risk-journey"
    loan_url = f"{live_server.url}/loans/{loan.pk}/"

    # --- the risk officer proposes a worse class ------------------------------------------------------------------
    sign_in(page, live_server, people["risk"])
    page.goto(loan_url)
    click_and_wait(page, "[data-testid=propose-classification]")
    assert page.locator("input[name=proposed_class][value=normal]").count() == 0  # only worse classes
    page.check("input[name=proposed_class][value=substandard]")
    page.fill("textarea[name=reason]", "借款人经营的餐馆已停业，还款来源不稳定。")
    screenshot(page, f"{shot}-01-propose")
    click_and_wait(page, "[data-testid=propose-submit]")
    assert page.locator("[data-testid=open-proposal]").is_visible()
    assert page.locator("[data-testid=approve-proposal]").count() == 0
    screenshot(page, f"{shot}-02-proposal-waiting")

    # --- a manager approves it from the list of proposals ---------------------------------------------------------
    sign_in(page, live_server, people["manager"])
    page.goto(f"{live_server.url}/loans/classification-approvals/")
    row = page.locator(f"[data-testid=proposal-{loan.number}]")
    assert "Normal → Substandard" in row.inner_text()
    screenshot(page, f"{shot}-03-classification-approvals")
    click_and_wait(page, f"[data-testid=proposal-{loan.number}] a.btn")
    page.fill("textarea[name=note]", "同意，下调为次级。")
    screenshot(page, f"{shot}-04-decide")
    click_and_wait(page, "[data-testid=approve-proposal]")
    assert page.locator("[data-testid=loan-header] [data-classification=substandard]").is_visible()
    assert "“Substandard” is approved" in page.locator(".alert-success").inner_text()
    assert ClassificationProposal.objects.get().status == "approved"
    screenshot(page, f"{shot}-05-classified")

    # --- the officer requests a restructuring after the side-by-side preview --------------------------------------
    sign_in(page, live_server, people["officer"])
    page.goto(loan_url)
    click_and_wait(page, "[data-testid=request-restructuring]")
    page.fill("input[name=extend_months]", "12")
    page.fill("input[name=new_rate]", "5.5")
    page.fill("textarea[name=reason]", "店铺装修停业三个月，收入下降。")
    page.locator("[data-testid=preview-restructuring]").click()
    preview = page.locator("[data-testid=restructuring-preview]")
    preview.wait_for()
    assert page.locator("[data-testid=old-schedule] tbody tr").count() == 12
    assert page.locator("[data-testid=new-schedule] tbody tr").count() == 24
    assert page.locator("[data-testid=new-payment]").inner_text().startswith("¥")
    assert Restructuring.objects.count() == 0  # the preview writes nothing
    screenshot(page, f"{shot}-06-restructuring-preview")
    click_and_wait(page, "[data-testid=submit-restructuring]")
    restructuring = Restructuring.objects.get()
    assert page.url == f"{live_server.url}/loans/{loan.pk}/restructurings/{restructuring.pk}/"
    assert page.locator("[data-testid=restructuring-status]").inner_text() == "Waiting for the risk officer"
    screenshot(page, f"{shot}-07-restructuring-requested")

    # --- the risk officer approves first ------------------------------------------------------------------------
    sign_in(page, live_server, people["risk"])
    page.goto(f"{live_server.url}/loans/restructurings/")
    screenshot(page, f"{shot}-08-restructurings-risk")
    click_and_wait(page, f"[data-testid=restructuring-{loan.number}] a.btn")
    page.fill("textarea[name=note]", "经营可恢复。")
    click_and_wait(page, "[data-testid=risk-approve]")
    assert page.locator("[data-testid=restructuring-status]").inner_text() == "Waiting for the manager"
    assert "钱风控" in page.locator("[data-testid=risk-approved-by]").inner_text()
    screenshot(page, f"{shot}-09-risk-approved")

    # --- the manager gives the final approval: version 2 is in force ----------------------------------------------
    sign_in(page, live_server, people["manager"])
    page.goto(f"{live_server.url}/loans/restructurings/")
    click_and_wait(page, f"[data-testid=restructuring-{loan.number}] a.btn")
    screenshot(page, f"{shot}-10-final-approval")
    click_and_wait(page, "[data-testid=final-approve]")
    assert page.url == loan_url
    assert "schedule version 2 in force" in page.locator("[data-testid=schedule-version]").inner_text()
    assert page.locator("[data-testid=schedule] tbody tr").count() == 24
    screenshot(page, f"{shot}-11-restructured")
    page.goto(f"{loan_url}?tab=versions")
    assert "Version 2" in page.locator("[data-testid=schedule-versions]").inner_text()
    screenshot(page, f"{shot}-12-versions")
    assert Loan.objects.get().current_version == 2
