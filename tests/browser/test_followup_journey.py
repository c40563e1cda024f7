"""The officer's follow-up day, in a real browser: the "today" list, a failed call logged from the row (htmx, the row
updates in place), then the record of a high-risk call, after which the record shows the open risk warning.
Screenshots at desktop and phone sizes go to artifacts/screenshots/."""

from datetime import timedelta
from decimal import Decimal

import pytest

from accounts.roles import Role
from core.dates import local_today
from followups.models import ContactAttempt, FollowUp, FollowUpKind, RiskWarning
from postloan import services
from postloan.models import Loan, Restructuring
from tests.applications.factories import make_product
from tests.followups.factories import make_question_sets, make_script, planned_followup
from tests.postloan.factories import prepare_disbursement, signed_contract

from .test_loan_journey import click_and_wait, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(branches, make_user):
    bj = branches["BJ"]

    def person(username, role, name, **fields):
        return make_user(username, role, branch=bj, display_name=name, preferred_language="en", **fields)

    return {
        "officer": person("officer_f", Role.OFFICER, "王敏"),
        "reviewer": person("reviewer_f", Role.REVIEWER, "王静"),
        "approver": person("approver_f", Role.APPROVER, "王强", approval_limit=Decimal("500000.00")),
        "manager": person("manager_f", Role.MANAGER, "赵经理"),
        "risk": person("risk_f", Role.RISK_OFFICER, "钱风控"),
    }


@pytest.fixture
def loan(people, settings) -> Loan:
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    today = local_today()
    contract = signed_contract(
        people, first_due_date=today + timedelta(days=20), amount="100000.00", term_months=12, method="equal_principal"
    )
    disbursement = prepare_disbursement(people, contract, disbursed_on=today)
    return services.disbursement_confirm(disbursement=disbursement, by=people["manager"])


def test_an_officer_logs_a_failed_call_and_records_a_high_risk_followup(people, loan, live_server, page, screenshot):
    shot = "followup-journey"
    make_question_sets()
    make_script(FollowUpKind.FIRST)
    today = local_today()
    due = planned_followup(loan, due_on=today)
    FollowUp.objects.filter(pk=due.pk).update(due_on=today)
    second = planned_followup(loan, kind=FollowUpKind.EXTRA, due_on=today)

    # --- the officer opens today's list ---------------------------------------------------------------------------
    sign_in(page, live_server, people["officer"])
    page.goto(f"{live_server.url}/followups/today/")
    assert page.locator("[data-testid=count-due_today]").inner_text().strip().endswith("2")
    screenshot(page, f"{shot}-01-today")

    # --- a failed call, logged from the row: the row updates in place ---------------------------------------------
    row = page.locator(f"[data-testid=followup-{second.pk}]")
    row.locator("select[name=outcome]").select_option("no_answer")
    row.locator("button[type=submit]").click()
    page.locator(f"[data-testid=followup-{second.pk}] [data-testid=row-notice]").wait_for()
    assert "1 failed attempt" in page.locator(f"[data-testid=followup-{second.pk}]").inner_text()
    assert ContactAttempt.objects.filter(followup=second, outcome="no_answer").count() == 1
    screenshot(page, f"{shot}-02-attempt-logged")

    # --- the record of a high-risk call ---------------------------------------------------------------------------
    click_and_wait(page, f"[data-testid=followup-{due.pk}] a.btn-primary")
    assert "Hello" in page.locator("[data-testid=script-text]").inner_text()
    screenshot(page, f"{shot}-03-record-form")
    form = page.locator("[data-testid=record-form]")
    form.locator("select[name=subject]").select_option("borrower")
    form.locator("select[name=channel]").select_option("phone")
    form.locator("select[name=q_funds_use]").select_option("yes")
    form.locator("select[name=q_business_status]").select_option("declining")
    form.locator("select[name=q_income_change]").select_option("down")
    form.locator("select[name=q_new_debts]").select_option("yes")
    form.locator("select[name=funds_used_as_contracted]").select_option("yes")
    form.locator("select[name=repayment_ability]").select_option("declining")
    form.locator("select[name=willingness]").select_option("hesitant")
    form.locator("input[name=risk_signals][value=business_decline]").check()
    form.locator("select[name=risk_level]").select_option("high")
    form.locator("textarea[name=summary]").fill("借款人餐馆客流下降一半，新增民间借款。")
    form.locator("textarea[name=next_steps]").fill("一周内上门走访，核实经营情况。")
    click_and_wait(page, "[data-testid=record-submit]")

    assert page.locator("[data-testid=open-warnings]").is_visible()
    assert "High" in page.locator("[data-testid=risk-level]").inner_text()
    assert FollowUp.objects.get(pk=due.pk).status == FollowUp.Status.COMPLETED
    assert RiskWarning.objects.filter(loan=loan, level="high").exists()
    screenshot(page, f"{shot}-04-recorded-with-warning")

    # --- the risk officer sees the warning, acknowledges it and asks for a restructuring ----------------------------
    warning = RiskWarning.objects.get(loan=loan, followup=due)
    sign_in(page, live_server, people["risk"])
    page.goto(f"{live_server.url}/followups/warnings/")
    assert page.locator(f"[data-testid=warning-{warning.pk}]").is_visible()
    screenshot(page, f"{shot}-05-warnings")
    click_and_wait(page, f"[data-testid=warning-{warning.pk}] a.btn-primary")
    page.locator("[data-testid=action-acknowledge] summary").click()
    click_and_wait(page, "[data-testid=submit-acknowledge]")
    assert RiskWarning.objects.get(pk=warning.pk).status == RiskWarning.Status.ACKNOWLEDGED

    restructuring = page.locator("[data-testid=action-restructuring]")
    restructuring.locator("summary").click()
    restructuring.locator("input[name=extend_months]").fill("6")
    restructuring.locator("input[name=first_due_date]").fill((today + timedelta(days=20)).isoformat())
    restructuring.locator("textarea[name=reason]").fill("经营下滑，延长期限六个月以降低月供。")
    screenshot(page, f"{shot}-06-restructuring-request")
    click_and_wait(page, "[data-testid=submit-restructuring]")

    assert page.locator("[data-testid=history-restructuring]").is_visible()
    request = Restructuring.objects.get(loan=loan)
    assert (request.status, request.extend_months, request.requested_by) == (
        Restructuring.Status.REQUESTED,
        6,
        people["risk"],
    )
    screenshot(page, f"{shot}-07-restructuring-requested")
