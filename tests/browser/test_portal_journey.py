"""A borrower's first week on the portal, on a phone (390×844), in a real browser, in both languages.

李明 has a disbursed loan and a second application being prepared, still missing a required document. His officer
invites him from the staff borrower page; on his phone he opens the link, chooses his language and a password, and
lands on the overview. The officer then asks him (staff disclosure page) to acknowledge the risk disclosure on the
portal. He sends the missing document, acknowledges the disclosure, looks at his loan's schedule and asks how to pay;
the officer answers from the reply library in the staff inbox; he reads the reply and rates it 5.

Screenshots of the borrower's phone go to artifacts/screenshots/portal-<lang>-<step>-phone.png.
"""

import importlib
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.apps import apps as django_apps
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from accounts.roles import Role
from applications import services as application_services
from applications.models import Application, DisclosureAcknowledgement, Material
from core.dates import local_today
from core.money import format_yuan
from followups.models import Inquiry, InquiryStatus, ReplyTemplate, SatisfactionSurvey
from notifications.models import OutboxMessage
from postloan import services as postloan_services
from tests.applications.factories import PDF_BYTES, make_application, make_product, pdf
from tests.postloan.factories import prepare_disbursement, signed_contract

from .conftest import ARTIFACTS, PHONE
from .test_loan_journey import click_and_wait, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Portal-Pass-2026"
QUESTION = "How do I pay my next installment, and how much is it?"
# The starting reply library comes from a data migration, which a transactional test's flush removes; re-create it.
REPLY_LIBRARY = importlib.import_module("followups.migrations.0003_reply_library")


def t(language: str, msgid: str, **values) -> str:
    """What the page shows for `msgid` in `language` (the catalogue's text, or the English msgid if untranslated)."""
    with translation.override(language):
        text = gettext(msgid)
    return text % values if values else text


def day(language: str, value, fmt: str = "DATE_FORMAT") -> str:
    with translation.override(language):
        if hasattr(value, "tzinfo"):
            value = timezone.localtime(value)
        return date_format(value, fmt)


def phone_shot(page, language: str, step: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"portal-{language}-{step}-phone.png"), full_page=True)


def scroll_width(page) -> int:
    """How wide the page really is; wider than the phone means the reader must scroll sideways."""
    return page.evaluate("document.documentElement.scrollWidth")


def alerts(page) -> str:
    return " ".join(page.locator("main [role=alert]").all_inner_texts())


@pytest.fixture
def people(branches, make_user, request):
    bj = branches["BJ"]
    language = request.param if hasattr(request, "param") else "en"

    def person(username, role, name, **fields):
        return make_user(username, role, branch=bj, display_name=name, preferred_language=language, **fields)

    return {
        "officer": person("officer_p", Role.OFFICER, "王敏", phone="13900139001", email="wangmin@example.com"),
        "reviewer": person("reviewer_p", Role.REVIEWER, "王静"),
        "approver": person("approver_p", Role.APPROVER, "王强", approval_limit=Decimal("500000.00")),
        "manager": person("manager_p", Role.MANAGER, "赵经理"),
    }


@pytest.fixture
def world(people, settings):
    """李明's loan (¥100,000.00, 12 months, disbursed today, first payment in 20 days) and his second application,
    a draft whose identity card the officer has uploaded and whose bank statements are still missing."""
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_QUIET_START_HOUR = settings.NOTIFY_QUIET_END_HOUR = 0
    officer = people["officer"]
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    today = local_today()
    contract = signed_contract(
        people, first_due_date=today + timedelta(days=20), amount="100000.00", term_months=12, method="equal_principal"
    )
    loan = postloan_services.disbursement_confirm(
        disbursement=prepare_disbursement(people, contract, disbursed_on=today), by=people["manager"]
    )
    borrower = loan.borrower
    second = make_application(officer, borrower=borrower, amount="50000.00", term_months=12)
    id_card = second.materials.get(requirement__code="id_card")
    application_services.material_upload(material=id_card, by=officer, upload=pdf("id.pdf"))
    statements = second.materials.get(requirement__code="bank_statement")
    # The live server's flush removed the library its data migration wrote: stock it the same way.
    REPLY_LIBRARY.create_library(django_apps, None)
    return {"loan": loan, "borrower": borrower, "second": second, "statements": statements}


@pytest.mark.parametrize("people", ["zh-hans", "en"], indirect=True, ids=["zh-hans", "en"])
def test_a_borrower_uses_the_portal_on_a_phone(people, world, live_server, browser, page, tmp_path):
    language = people["officer"].preferred_language
    officer = people["officer"]
    loan, borrower, second, statements = world["loan"], world["borrower"], world["second"], world["statements"]

    # --- 2. the officer invites the borrower from the staff borrower page (desktop) ---------------------------------
    sign_in(page, live_server, officer)
    page.goto(f"{live_server.url}/applications/borrowers/{borrower.pk}/")
    click_and_wait(page, "[data-testid=invite-borrower]")
    assert page.locator("[data-testid=invitation-pending]").is_visible()
    invitation_sms = OutboxMessage.objects.get(template="portal_invitation", channel="sms")
    assert invitation_sms.to_address == borrower.mobile
    link_path = urlparse(invitation_sms.context["link"]).path
    assert link_path.startswith("/portal/welcome/")

    # --- 3. on the phone: the link, the language, the password, the overview ------------------------------------------
    # The phone asks for Chinese; in the English run the borrower switches to English on the form.
    phone_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        phone = phone_context.new_page()
        phone.set_default_timeout(15_000)
        phone.goto(f"{live_server.url}{link_path}")
        form = phone.locator("[data-testid=invitation-form]")
        assert borrower.name in phone.locator("main").inner_text()
        form.locator("select[name=language]").select_option(language)
        form.locator("input[name=password1]").fill(PASSWORD)
        form.locator("input[name=password2]").fill(PASSWORD)
        click_and_wait(phone, "[data-testid=invitation-form-submit]")

        assert urlparse(phone.url).path == "/portal/"
        assert t(language, "Welcome. Your password is set; next time sign in with your mobile number.") in alerts(phone)
        assert phone.locator("h1").inner_text().strip() == t(language, "Hello, %(name)s", name=borrower.name)
        assert phone.locator("html").get_attribute("lang") == {"zh-hans": "zh-Hans", "en": "en"}[language]
        borrower.refresh_from_db()
        assert borrower.user is not None and borrower.user.preferred_language == language
        first = loan.current_installments().first()
        next_payment = t(
            language,
            "Your next payment of %(amount)s is due on %(date)s.",
            amount=format_yuan(first.outstanding),
            date=day(language, first.due_date),
        )
        loan_card = phone.locator("[data-testid=loan-card]")
        assert loan.number in loan_card.inner_text()
        assert loan_card.locator("[data-testid=loan-next-step]").inner_text().strip() == next_payment
        card = phone.locator("[data-testid=application-card]")
        assert second.number in card.inner_text()
        assert statements.name_in(language) in card.locator("[data-testid=application-next-step]").inner_text()
        # Nothing sticks out sideways on a 390 px phone.
        overview_width = scroll_width(phone)  # asserted at the end
        phone_shot(phone, language, "01-overview")

        # --- 1. (after the account exists) the officer asks for the disclosure on the staff page -------------------
        page.goto(f"{live_server.url}/applications/{second.pk}/disclosure/")
        click_and_wait(page, "[data-testid=request-disclosure]")
        assert page.locator("[data-testid=disclosure-requested]").is_visible()
        assert Application.objects.get(pk=second.pk).disclosure_requested_at is not None
        assert OutboxMessage.objects.filter(template="portal_disclosure_requested", to_address=borrower.mobile).exists()

        # --- 4. the missing document, sent from the phone ---------------------------------------------------------
        phone.reload()
        assert "border-primary" in card.get_attribute("class")  # needs his action
        click_and_wait(phone, "[data-testid=application-card]")
        row = phone.locator(f"[data-testid=material-{statements.pk}]")
        assert t(language, "Still needed") in row.inner_text()
        assert phone.locator("[data-testid=disclosure-request]").is_visible()
        upload = tmp_path / "statements.pdf"
        upload.write_bytes(PDF_BYTES)
        row.locator("input[type=file]").set_input_files(str(upload))
        with phone.expect_navigation():
            row.locator("button[type=submit]").click()
        assert t(language, "Thank you. We received %(name)s and will check it.", name=statements.name_in(language)) in (
            alerts(phone)
        )
        row = phone.locator(f"[data-testid=material-{statements.pk}]")
        assert t(language, "Received, being checked") in row.inner_text()
        assert row.locator("input[type=file]").count() == 0
        statements.refresh_from_db()
        assert (statements.status, statements.uploaded_by) == (Material.Status.UPLOADED, borrower.user)
        assert scroll_width(phone) <= PHONE["width"]
        phone_shot(phone, language, "02-document-sent")

        # --- 5. the risk disclosure, read and acknowledged -------------------------------------------------------
        click_and_wait(phone, "[data-testid=disclosure-request] a")
        disclosure = second.product.current_disclosure()
        expected_text = disclosure.text_en if language == "en" else disclosure.text_zh
        assert phone.locator("[data-testid=disclosure-text]").inner_text().strip() == expected_text
        click_and_wait(phone, "[data-testid=acknowledge]")
        assert urlparse(phone.url).path == f"/portal/applications/{second.number}/"
        assert t(language, "Thank you. Your acknowledgement is recorded.") in alerts(phone)
        assert phone.locator("[data-testid=disclosure-request]").count() == 0
        acknowledgement = DisclosureAcknowledgement.objects.get(application=second, disclosure=disclosure)
        assert acknowledgement.method == DisclosureAcknowledgement.Method.PORTAL
        phone.goto(f"{live_server.url}/portal/applications/{second.number}/disclosure/")
        assert phone.locator("[data-testid=disclosure-acknowledged]").is_visible()
        assert phone.locator("[data-testid=acknowledge]").count() == 0

        # --- 6. the loan: schedule and next payment -----------------------------------------------------------------
        phone.goto(f"{live_server.url}/portal/")
        click_and_wait(phone, "[data-testid=loan-card]")
        assert phone.locator("[data-testid=loan-next-step]").inner_text().splitlines()[0].strip() == next_payment
        schedule = phone.locator("[data-testid=schedule]")
        assert schedule.locator("tbody tr").count() == 12
        highlighted = schedule.locator("tbody tr.table-primary")
        assert highlighted.count() == 1
        assert highlighted.locator("td").first.inner_text().strip() == "1"
        assert format_yuan(first.total_due) in highlighted.inner_text()
        assert "6222" not in phone.locator("main").inner_text()  # the account number is masked
        assert scroll_width(phone) <= PHONE["width"]
        phone_shot(phone, language, "03-loan")

        # --- 7. a repayment question ----------------------------------------------------------------------------------
        phone.goto(f"{live_server.url}/portal/questions/")
        inquiry_form = phone.locator("[data-testid=inquiry-form]")
        inquiry_form.locator("select[name=category]").select_option("repayment")
        inquiry_form.locator("select[name=about]").select_option(f"loan:{loan.pk}")
        inquiry_form.locator("textarea[name=question]").fill(QUESTION)
        click_and_wait(phone, "[data-testid=send-inquiry]")
        inquiry = Inquiry.objects.get(borrower=borrower)
        assert (inquiry.category, inquiry.loan_id, inquiry.assignee, inquiry.status) == (
            "repayment",
            loan.pk,
            officer,
            InquiryStatus.OPEN,
        )
        assert urlparse(phone.url).path == f"/portal/questions/{inquiry.pk}/"
        assert t(language, "Thank you. Your question %(number)s is sent.", number=inquiry.number) in alerts(phone)
        assert QUESTION in phone.locator("[data-testid=inquiry-question]").inner_text()
        promised = phone.locator("[data-testid=promised-time]").inner_text().strip()
        assert promised == t(
            language, "Our reply is due by: %(due)s", due=day(language, inquiry.due_at, "DATETIME_FORMAT")
        )
        assert scroll_width(phone) <= PHONE["width"]
        phone_shot(phone, language, "04-question-sent")

        # --- 8. the officer answers from the reply library (desktop) --------------------------------------------------
        template = ReplyTemplate.objects.get(code="repayment-how-to-pay")
        page.goto(f"{live_server.url}/followups/inquiries/")
        inbox_row = page.locator(
            f"[data-testid=inquiry-inbox] [data-testid=inquiry-row][data-number='{inquiry.number}']"
        )
        assert borrower.name in inbox_row.inner_text()
        click_and_wait(page, f"[data-testid=inquiry-row][data-number='{inquiry.number}'] a")
        page.locator("[data-testid=reply-template]").select_option(str(template.pk))
        page.locator("[data-testid=use-template]").click()
        reply_text = page.locator("[data-testid=reply-text]")
        page.wait_for_function("document.querySelector('[data-testid=reply-text]').value.length > 0")
        filled = reply_text.input_value()
        assert borrower.name in filled and loan.number in filled and format_yuan(first.outstanding) in filled
        assert "{" not in filled and "}" not in filled
        click_and_wait(page, "[data-testid=send-reply]")
        assert page.locator("[data-testid=reply]").count() == 1
        inquiry.refresh_from_db()
        assert inquiry.status == InquiryStatus.ANSWERED
        assert inquiry.replies.get().template == template

        # --- 9. the borrower reads the reply and rates it ------------------------------------------------------------
        phone.reload()
        assert phone.locator("[data-testid=promised-time]").count() == 0
        reply = phone.locator("[data-testid=inquiry-reply]").inner_text()
        assert borrower.name in reply and loan.number in reply and officer.display_name in reply
        assert "{" not in reply
        rating_form = phone.locator("[data-testid=rating-form]")
        rating_form.locator("input[name=rating][value='5']").check()
        click_and_wait(phone, "[data-testid=send-rating]")
        assert t(language, "Thank you for your rating.") in alerts(phone)
        assert phone.locator("[data-testid=rated]").inner_text().strip() == t(
            language, "You rated this reply %(rating)s out of 5. Thank you.", rating=5
        )
        assert phone.locator("[data-testid=rating-form]").count() == 0
        survey = SatisfactionSurvey.objects.get(inquiry=inquiry)
        assert (survey.rating, survey.officer, survey.borrower_id) == (5, officer, borrower.pk)
        assert scroll_width(phone) <= PHONE["width"]
        phone_shot(phone, language, "05-reply-rated")
    finally:
        phone_context.close()
    # Checked last so that the rest of the journey is verified even while this fails.
    assert overview_width <= PHONE["width"], (
        f"the overview is {overview_width}px wide on a {PHONE['width']}px phone: the reader must scroll sideways"
    )
