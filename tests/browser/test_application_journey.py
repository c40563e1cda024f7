"""A loan application from the first visit to approval, in a real browser, once in Chinese and once in English.

The officer registers the borrower, matches a product, opens the application, uploads every required material,
records the risk disclosure and the assessment and submits; a reviewer takes it from the queue, accepts the materials
and passes it; an approver approves it; the officer sees it approved.
"""

from decimal import Decimal

import pytest

from accounts.roles import Role
from applications.models import Application, Review
from tests.applications.factories import PDF_BYTES, RESIDENT_IDS, make_product
from tests.conftest import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(branches, make_user):
    bj = branches["BJ"]
    return {
        "officer": make_user("officer_j", Role.OFFICER, branch=bj, display_name="王敏"),
        "reviewer": make_user("reviewer_j", Role.REVIEWER, branch=bj, display_name="王静"),
        "approver": make_user(
            "approver_j", Role.APPROVER, branch=bj, display_name="王强", approval_limit=Decimal("500000.00")
        ),
    }


def sign_in(page, live_server, user, language: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", TEST_PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=sign-in]")
    if page.locator("html").get_attribute("lang") != language:
        # The language menu stores the choice on the user, so every later page follows it.
        with page.expect_navigation():
            page.click(f"[data-testid=language-{language.lower()}]")
    assert page.locator("html").get_attribute("lang") == language


def click_and_wait(page, selector) -> None:
    with page.expect_navigation():
        page.locator(selector).click()


@pytest.mark.parametrize("language", ["zh-Hans", "en"])
def test_an_application_goes_from_intake_to_approval(language, people, live_server, page, screenshot, tmp_path):
    product = make_product()
    shot = f"journey-{language.lower()}"
    statement = tmp_path / "statement.pdf"
    statement.write_bytes(PDF_BYTES)

    # --- the officer: borrower, matching, application ---------------------------------------------------------
    sign_in(page, live_server, people["officer"], language)
    page.goto(f"{live_server.url}/applications/borrowers/new/")
    page.select_option("select[name=kind]", "individual")
    page.fill("input[name=name]", "李明")
    page.select_option("select[name=identity_type]", "resident_id")
    page.fill("input[name=identity_number]", RESIDENT_IDS[0])
    page.fill("input[name=mobile]", "13800138000")
    page.fill("input[name=address]", "北京市朝阳区建国路1号")
    page.fill("input[name=employer]", "北京某某科技有限公司")
    page.fill("input[name=years_at_job]", "5")
    page.fill("input[name=monthly_income]", "30000")
    page.fill("input[name=monthly_debt_payments]", "2000")
    screenshot(page, f"{shot}-01-borrower")
    click_and_wait(page, "[data-testid=borrower-submit]")

    page.fill("input[name=amount]", "100000")
    page.fill("input[name=term_months]", "24")
    page.fill("input[name=purpose]", "家庭装修")
    click_and_wait(page, "main form[method=get] button[type=submit]")
    assert page.locator(f"[data-testid=match-{product.code}]").is_visible()
    screenshot(page, f"{shot}-02-matching")
    click_and_wait(page, f"[data-testid=match-{product.code}] a.btn")

    page.fill("input[name=annual_rate]", "6.5")
    page.fill("input[name=purpose]", "家庭装修（自住房翻新）")
    screenshot(page, f"{shot}-03-terms")
    click_and_wait(page, "[data-testid=application-submit]")
    application = Application.objects.get()
    detail_url = f"{live_server.url}/applications/{application.pk}/"

    # --- materials, disclosure, assessment, submission --------------------------------------------------------
    page.goto(f"{detail_url}?tab=materials")
    materials = list(application.materials.filter(is_required=True).order_by("pk"))
    required = len(materials)
    assert page.locator("[data-testid^=upload-submit-]").count() == required == 2
    for material in materials:
        page.locator(f"[data-testid=upload-{material.pk}]").set_input_files(str(statement))
        click_and_wait(page, f"[data-testid=upload-submit-{material.pk}]")
    assert application.materials.filter(status="uploaded").count() == required
    screenshot(page, f"{shot}-04-materials")

    page.goto(f"{detail_url}disclosure/")
    click_and_wait(page, "[data-testid=disclosure-submit]")
    screenshot(page, f"{shot}-05-disclosure")

    page.goto(f"{detail_url}?tab=assessment")
    page.check("input[name=income_stability][value=stable]")
    click_and_wait(page, "[data-testid=assessment-submit]")
    screenshot(page, f"{shot}-06-assessment")

    page.goto(detail_url)
    assert page.locator("[data-testid=submit-application]").is_enabled()
    click_and_wait(page, "[data-testid=submit-application]")
    application.refresh_from_db()
    assert application.status == "submitted"
    screenshot(page, f"{shot}-07-submitted")

    # --- the reviewer: queue, start, materials, pass ----------------------------------------------------------
    sign_in(page, live_server, people["reviewer"], language)
    page.goto(f"{live_server.url}/applications/review/")
    assert page.locator(f"[data-testid=queue-row-{application.number}]").is_visible()
    screenshot(page, f"{shot}-08-review-queue")
    click_and_wait(page, f"[data-testid=start-review-{application.number}]")
    assert page.url.endswith(f"/applications/{application.pk}/review/initial/")
    while page.locator("[data-testid=material-accept]").count():
        click_and_wait(page, "[data-testid=material-accept] >> nth=0")
    assert application.materials.filter(status="accepted").count() == required
    for box in page.locator("[data-testid=checklist] input[type=checkbox]").all():
        box.check()
    page.check("input[name=decision][value=pass]")
    page.fill("textarea[name=comment]", "身份证件已与原件核对一致，收入与流水相符，同意提交复核。")
    screenshot(page, f"{shot}-09-initial-review")
    click_and_wait(page, "[data-testid=submit-decision]")
    assert page.url == f"{live_server.url}/applications/review/"
    application.refresh_from_db()
    assert application.status == "secondary_review"
    assert Review.objects.get(stage="initial").checklist == dict.fromkeys(
        ("identity_verified", "income_consistent", "purpose_plausible", "materials_complete", "no_conflicts"), True
    )
    screenshot(page, f"{shot}-10-passed")

    # --- the approver -----------------------------------------------------------------------------------------
    sign_in(page, live_server, people["approver"], language)
    page.goto(f"{live_server.url}/applications/approvals/")
    click_and_wait(page, f"[data-testid=open-approval-{application.number}]")
    assert "身份证件已与原件核对一致" in page.locator("[data-testid=initial-review]").inner_text()
    assert page.locator("input[name=approved_amount]").input_value() == "100000.00"
    page.check("input[name=decision][value=approve]")
    page.fill("textarea[name=conditions]", "放款前提供工资流水原件。")
    page.fill("textarea[name=comment]", "还款能力充足，同意审批。")
    screenshot(page, f"{shot}-11-approval")
    click_and_wait(page, "[data-testid=submit-decision]")
    application.refresh_from_db()
    assert application.status == "approved"
    assert application.approved_by == people["approver"]

    # --- the officer sees the approval --------------------------------------------------------------------------
    sign_in(page, live_server, people["officer"], language)
    page.goto(detail_url)
    badge = page.locator("[data-testid=application-header] [data-status=approved]")
    assert badge.is_visible()
    if language == "en":
        assert "Approved" in badge.inner_text()
    screenshot(page, f"{shot}-12-approved")
