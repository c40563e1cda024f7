"""From an approved application to a reversed repayment, in a real browser.

The officer prepares the contract, an approver confirms it; the officer records the disbursement, the approver
confirms it and the loan starts; the officer posts a repayment after seeing its allocation; a manager reverses it with
a reason. Screenshots of every step at desktop and phone sizes go to artifacts/screenshots/.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from core.dates import local_today
from postloan.models import Contract, Loan, Repayment
from tests.applications.factories import make_product
from tests.conftest import TEST_PASSWORD
from tests.postloan.factories import approved_application

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(branches, make_user):
    bj = branches["BJ"]
    return {
        "officer": make_user("officer_l", Role.OFFICER, branch=bj, display_name="王敏", preferred_language="en"),
        "reviewer": make_user("reviewer_l", Role.REVIEWER, branch=bj, display_name="王静", preferred_language="en"),
        "approver": make_user(
            "approver_l",
            Role.APPROVER,
            branch=bj,
            display_name="王强",
            approval_limit=Decimal("500000.00"),
            preferred_language="en",
        ),
        "manager": make_user("manager_l", Role.MANAGER, branch=bj, display_name="赵经理", preferred_language="en"),
    }


def sign_in(page, live_server, user) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=sign-in]")


def click_and_wait(page, selector) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


def test_a_loan_goes_from_contract_to_a_reversed_repayment(people, live_server, page, screenshot, settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    application = approved_application(people, amount="100000.00", term_months=12, method="equal_principal")
    today = local_today()
    first_due = today + timedelta(days=20)
    shot = "loan-journey"

    # --- the officer prepares the contract from the approved application --------------------------------------------
    sign_in(page, live_server, people["officer"])
    page.goto(f"{live_server.url}/applications/{application.pk}/")
    click_and_wait(page, "[data-testid=prepare-contract]")
    assert "¥100,000.00" in page.locator("[data-testid=approved-terms]").inner_text()
    page.fill("input[name=first_due_date]", first_due.isoformat())
    screenshot(page, f"{shot}-01-prepare-contract")
    click_and_wait(page, "[data-testid=contract-submit]")
    contract = Contract.objects.get()
    assert page.locator("[data-testid=contract-status]").inner_text().startswith("Prepared")
    screenshot(page, f"{shot}-02-contract-prepared")

    # --- the approver confirms it -------------------------------------------------------------------------------------
    sign_in(page, live_server, people["approver"])
    page.goto(f"{live_server.url}/loans/confirmations/")
    assert page.locator(f"[data-testid=contract-{contract.number}]").is_visible()
    screenshot(page, f"{shot}-03-confirmations")
    click_and_wait(page, f"[data-testid=contract-{contract.number}] a.btn")
    click_and_wait(page, "[data-testid=confirm-contract]")
    assert page.locator("[data-testid=contract-status]").inner_text() == "Signed"
    assert "王强" in page.locator("[data-testid=confirmed-by]").inner_text()
    screenshot(page, f"{shot}-04-contract-signed")

    # --- the officer records the disbursement ---------------------------------------------------------------------
    sign_in(page, live_server, people["officer"])
    page.goto(f"{live_server.url}/loans/contracts/{contract.pk}/")
    click_and_wait(page, "[data-testid=prepare-disbursement]")
    assert page.locator("input[name=amount]").input_value() == "100000.00"
    page.fill("input[name=disbursed_on]", today.isoformat())
    page.fill("input[name=bank_name]", "中国工商银行北京朝阳支行")
    page.fill("input[name=account_number]", "6222 0212 3456 7890 123")
    page.fill("input[name=bank_reference]", "ICBC-TRF-0001")
    screenshot(page, f"{shot}-05-disbursement-form")
    click_and_wait(page, "[data-testid=disbursement-submit]")
    assert page.locator("[data-testid=account-masked]").inner_text().endswith("**** 0123")
    assert "6222" not in page.locator("main").inner_text()
    screenshot(page, f"{shot}-06-disbursement-recorded")

    # --- the approver confirms the transfer: the loan starts ------------------------------------------------------
    sign_in(page, live_server, people["approver"])
    page.goto(f"{live_server.url}/loans/contracts/{contract.pk}/")
    click_and_wait(page, "[data-testid=confirm-disbursement]")
    loan = Loan.objects.get()
    assert page.url == f"{live_server.url}/loans/{loan.pk}/"
    assert page.locator("[data-testid=outstanding]").inner_text() == "¥100,000.00"
    assert page.locator("[data-testid=installment-1] [data-state=not_due]").is_visible()
    screenshot(page, f"{shot}-07-loan-started")

    # --- the officer posts a repayment, after the preview -----------------------------------------------------------
    sign_in(page, live_server, people["officer"])
    page.goto(f"{live_server.url}/loans/")
    assert page.locator(f"[data-testid=loan-row] >> text={loan.number}").is_visible()
    screenshot(page, f"{shot}-08-my-loans")
    page.goto(f"{live_server.url}/loans/{loan.pk}/")
    # The follow-ups planned at disbursement: the first (D+30) is in work above the tabs, the whole plan on its tab.
    plan = list(loan.followups.order_by("due_on", "pk"))
    assert len(plan) > 1
    card = page.locator("[data-testid=loan-followups]")
    assert card.locator(f"[data-testid=loan-followup-{plan[0].pk}]").is_visible()
    assert card.locator(f"[data-testid=loan-followup-{plan[-1].pk}]").count() == 0
    click_and_wait(page, "[data-testid=all-followups]")
    rows = page.locator("tr[data-testid^=followup-]")
    assert rows.count() == len(plan)
    assert rows.first.get_attribute("data-testid") == f"followup-{plan[0].pk}"  # due now first, the rest in order
    screenshot(page, f"{shot}-08b-follow-up-plan")
    page.goto(f"{live_server.url}/loans/{loan.pk}/")
    click_and_wait(page, "[data-testid=post-repayment]")
    first = loan.current_installments().first()
    page.fill("input[name=amount]", str(first.total_due))
    page.fill("input[name=reference]", "ICBC-REPAY-0001")
    page.locator("[data-testid=preview-repayment]").click()
    preview = page.locator("[data-testid=allocation-preview]")
    preview.wait_for()
    line = page.locator("[data-testid=preview-line-1]").inner_text()
    assert f"¥{first.interest_due:,.2f}" in line and f"¥{first.principal_due:,.2f}" in line
    assert "Nothing is left over." in preview.inner_text()
    assert Repayment.objects.count() == 0  # the preview writes nothing
    screenshot(page, f"{shot}-09-repayment-preview")
    click_and_wait(page, "[data-testid=confirm-repayment]")
    card = page.locator("[data-testid=repayment-ICBC-REPAY-0001]")
    assert f"¥{first.total_due:,.2f}" in card.inner_text()
    assert Loan.objects.get().outstanding_principal == Decimal("100000.00") - first.principal_due
    screenshot(page, f"{shot}-10-repayment-posted")

    # --- a manager reverses it with a reason ----------------------------------------------------------------------
    sign_in(page, live_server, people["manager"])
    page.goto(f"{live_server.url}/loans/{loan.pk}/?tab=repayments")
    click_and_wait(page, "[data-testid=reverse-ICBC-REPAY-0001]")
    page.fill("textarea[name=reason]", "银行退票：账户余额不足。")
    screenshot(page, f"{shot}-11-reversal-form")
    click_and_wait(page, "[data-testid=reverse-submit]")
    card = page.locator("[data-testid=repayment-ICBC-REPAY-0001]")
    assert card.locator("[data-testid=reversed]").is_visible()
    assert "银行退票" in card.inner_text()
    page.goto(f"{live_server.url}/loans/{loan.pk}/")
    assert page.locator("[data-testid=outstanding]").inner_text() == "¥100,000.00"
    screenshot(page, f"{shot}-12-reversed")
