"""The staff side of borrowers' inquiries (咨询): the branch's inbox with its filters and late flag, an inquiry's page
with the reply library, sending a reply (once, however often the form is posted) and the manager's reassignment."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from core.dates import SHANGHAI, working_minutes_between
from followups.models import Inquiry, InquiryReply, ReplyTemplate
from followups.services.inquiries import inquiry_create
from notifications.models import OutboxMessage
from tests.applications.factories import RESIDENT_IDS, make_borrower

pytestmark = pytest.mark.django_db

ASKED = datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)  # a Tuesday morning: repayment questions are due at 14:00
AFTERNOON = datetime(2026, 3, 3, 16, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english_pages(staff):
    User.objects.update(preferred_language="en")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(ASKED, tick=False)
    return time_machine


def portal_user(make_user, borrower, username: str, language: str = "zh-hans") -> User:
    user = make_user(username, Role.BORROWER, preferred_language=language)
    borrower.user = user
    borrower.save()
    return user


@pytest.fixture
def li(loan, make_user, clock):
    """李明, the default loan's borrower (Beijing), with a portal account in Chinese."""
    borrower = loan.borrower
    portal_user(make_user, borrower, "li_ming")
    return borrower


@pytest.fixture
def wang(staff, make_user, clock):
    """王芳, a Shanghai borrower with a portal account and nothing else (her questions go to the Shanghai officer)."""
    borrower = make_borrower(staff["other_officer"], number=RESIDENT_IDS[2], name="王芳", mobile="13911112222")
    portal_user(make_user, borrower, "wang_fang")
    return borrower


def ask(borrower, question: str = "我下个月应还多少？", category: str = "repayment", **kwargs) -> Inquiry:
    return inquiry_create(borrower=borrower, by=borrower.user, category=category, question=question, **kwargs)


@pytest.fixture
def inquiry(li, loan):
    return ask(li, loan=loan)


@pytest.fixture
def library(db):
    """A repayment reply with placeholders, a product reply and one for any category."""
    return {
        "payment": ReplyTemplate.objects.create(
            code="next-payment",
            category="repayment",
            title_zh="下次还款提醒",
            title_en="Next payment",
            body_zh="{borrower_name}您好：您的贷款{loan_number}下次还款{next_due_amount}，请按时还款。",
            body_en="Dear {borrower_name}, your loan {loan_number} next needs {next_due_amount}.",
        ),
        "product": ReplyTemplate.objects.create(
            code="about-products",
            category="product",
            title_zh="产品介绍",
            title_en="About our products",
            body_zh="感谢关注。",
            body_en="Thank you for asking.",
        ),
        "thanks": ReplyTemplate.objects.create(
            code="aa-thanks",
            category="",
            title_zh="通用感谢",
            title_en="General thanks",
            body_zh="感谢您的提问。",
            body_en="Thank you for your question.",
        ),
    }


def mark_answered(inquiry, by, at=None) -> None:
    """An answered inquiry for the inbox's sake (the reply page itself is tested through the service below)."""
    at = at or timezone.now()
    InquiryReply.objects.create(inquiry=inquiry, author=by, text="已回复。", created_at=at)
    Inquiry.objects.filter(pk=inquiry.pk).update(
        status="answered", answered_at=at, response_minutes=working_minutes_between(inquiry.created_at, at)
    )


def inbox(client, user, **params):
    client.force_login(user)
    return client.get(reverse("followups:inquiries"), params)


def numbers(response) -> list[str]:
    return [inquiry.number for inquiry in response.context["page_obj"]]


def detail_url(inquiry) -> str:
    return reverse("followups:inquiry", args=[inquiry.pk])


def send(client, user, inquiry, text="您好，下次还款日为3月10日。", seen=0, follow=False, **extra):
    client.force_login(user)
    return client.post(detail_url(inquiry), {"text": text, "replies_seen": seen, "send": "1", **extra}, follow=follow)


# --- the inbox ----------------------------------------------------------------------------------------------------
def test_inbox_shows_the_branchs_open_inquiries_soonest_due_first(client, staff, li, wang, loan, clock):
    repayment = ask(li, loan=loan)  # due 14:00 today
    product = ask(li, "你们有经营贷吗？", category="product")  # due 10:00 tomorrow
    shanghai = ask(wang, "怎么还款？")
    answered = ask(li, "合同在哪里看？", category="other")
    mark_answered(answered, staff["officer"])

    response = inbox(client, staff["officer"])

    assert response.status_code == 200
    assert numbers(response) == [repayment.number, product.number]
    html = response.content.decode()
    assert 'data-testid="inquiry-inbox"' in html and html.count('data-testid="inquiry-row"') == 2
    assert "李明" in html and "138****8000" in html and "13800138000" not in html
    assert shanghai.number not in html
    # head office sees every branch
    assert set(numbers(inbox(client, staff["hq_risk"]))) == {repayment.number, product.number, shanghai.number}


def test_inbox_filters_by_category_assignee_status_and_branch(client, staff, li, wang, loan, clock):
    repayment = ask(li, loan=loan)
    complaint = ask(li, "服务态度不好。", category="complaint")  # goes to the branch manager
    answered = ask(li, "合同在哪里看？", category="other")
    mark_answered(answered, staff["officer"])
    shanghai = ask(wang, "怎么还款？")
    manager = staff["manager"]

    assert numbers(inbox(client, manager, category="complaint")) == [complaint.number]
    assert numbers(inbox(client, manager, assignee=staff["officer"].pk)) == [repayment.number]
    assert numbers(inbox(client, manager, status="answered")) == [answered.number]
    assert set(numbers(inbox(client, manager, status="all"))) == {repayment.number, complaint.number, answered.number}
    # only head office has the branch filter; for others a branch in the address changes nothing
    assert "branch" not in inbox(client, manager).context["form"].fields
    assert set(numbers(inbox(client, manager, branch=wang.branch_id))) == {repayment.number, complaint.number}
    assert numbers(inbox(client, staff["hq_risk"], branch=wang.branch_id)) == [shanghai.number]


def test_late_inquiries_are_flagged_and_filtered(client, staff, li, loan, clock):
    waiting_late = ask(li, loan=loan)  # due 14:00
    answered_late = ask(li, "提前还款怎么办理？", loan=loan)
    answered_in_time = ask(li, "还款账户是哪个？", loan=loan)
    mark_answered(answered_in_time, staff["officer"])
    clock.move_to(AFTERNOON, tick=False)
    mark_answered(answered_late, staff["officer"])
    not_yet_due = ask(li, "逾期会怎样？", loan=loan)  # asked at 16:00, due tomorrow

    everything = inbox(client, staff["officer"], status="all")
    late = inbox(client, staff["officer"], status="all", late="on")
    open_late = inbox(client, staff["officer"], late="on")

    assert set(numbers(late)) == {waiting_late.number, answered_late.number}
    assert numbers(open_late) == [waiting_late.number]
    assert not_yet_due.number in numbers(everything)
    rows = everything.content.decode().split('data-testid="inquiry-row"')[1:]
    flagged = {row.split('data-number="')[1].split('"')[0] for row in rows if 'data-testid="late"' in row}
    assert flagged == {waiting_late.number, answered_late.number}
    # the answered ones show their response time in working time: 6 h (10:00 → 16:00)
    assert "6 h 0 min" in everything.content.decode()


def test_inbox_query_count_does_not_grow_with_rows(client, staff, li, loan, clock):
    for index in range(3):
        ask(li, f"问题{index}", loan=loan)
    client.force_login(staff["manager"])
    url = reverse("followups:inquiries")
    client.get(url)  # warm up the session and the content types
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, {"status": "all"}).status_code == 200
    for index in range(12):
        ask(li, f"更多问题{index}", category="product")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"status": "all"})
    assert response.content.decode().count('data-testid="inquiry-row"') == 15
    assert len(many) == len(few)


def test_roles_without_the_inbox_get_403(client, staff, make_user, inquiry):
    admin = make_user("fu_admin", Role.ADMIN, branch=staff["officer"].branch)
    assert inbox(client, admin).status_code == 403
    assert client.get(detail_url(inquiry)).status_code == 403
    assert inbox(client, staff["reviewer"]).status_code == 200


# --- one inquiry --------------------------------------------------------------------------------------------------
def test_detail_shows_the_question_borrower_subject_and_promised_time(client, staff, inquiry, loan):
    client.force_login(staff["officer"])
    response = client.get(detail_url(inquiry))

    html = response.content.decode()
    assert response.status_code == 200
    assert "我下个月应还多少？" in html
    assert "李明" in html and "138****8000" in html and "13800138000" not in html
    assert reverse("postloan:detail", args=[loan.pk]) in html and loan.number in html
    assert "2026-03-03 14:00" in html  # 4 working hours after 10:00
    assert 'data-testid="reply-text"' in html and 'data-testid="send-reply"' in html


def test_staff_of_another_branch_get_404_and_do_not_see_the_row(client, staff, inquiry):
    client.force_login(staff["other_officer"])
    assert client.get(detail_url(inquiry)).status_code == 404
    assert send(client, staff["other_risk"], inquiry).status_code == 404
    assert inquiry.number not in inbox(client, staff["other_officer"], status="all").content.decode()
    assert not InquiryReply.objects.exists()


@pytest.mark.parametrize("role", ["reviewer", "approver"])
def test_reviewer_and_approver_may_read_but_not_reply(client, staff, inquiry, role):
    client.force_login(staff[role])
    page = client.get(detail_url(inquiry))
    assert page.status_code == 200
    assert 'data-testid="send-reply"' not in page.content.decode()

    assert send(client, staff[role], inquiry).status_code == 403
    assert not InquiryReply.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).status == "open"


def test_library_lists_the_inquirys_category_first_in_the_staff_language(client, staff, inquiry, library):
    client.force_login(staff["officer"])
    html = client.get(detail_url(inquiry)).content.decode()

    assert 'data-testid="reply-template"' in html and 'data-testid="use-template"' in html
    assert html.index("Next payment") < html.index("About our products")
    assert html.index("Next payment") < html.index("General thanks")
    assert "下次还款提醒" not in html


def test_use_template_fills_the_text_in_the_borrowers_language_and_sends_nothing(client, staff, inquiry, library, loan):
    client.force_login(staff["officer"])
    response = client.post(
        detail_url(inquiry), {"template": library["payment"].pk, "replies_seen": 0, "text": "", "use_template": "1"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert f"李明您好：您的贷款{loan.number}下次还款¥" in html
    assert "{borrower_name}" not in html and "{loan_number}" not in html
    assert "Dear 李明" not in html  # the borrower reads Chinese, whatever the officer's language
    assert not InquiryReply.objects.exists()
    assert not OutboxMessage.objects.filter(template="inquiry_answered").exists()


def test_use_template_with_htmx_returns_only_the_fields(client, staff, inquiry, library, loan):
    client.force_login(staff["officer"])
    response = client.post(
        detail_url(inquiry),
        {"template": library["payment"].pk, "replies_seen": 0, "use_template": "1"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="reply-fields"' in html
    assert f"李明您好：您的贷款{loan.number}" in html


def test_use_template_without_a_choice_asks_for_one(client, staff, inquiry, library):
    client.force_login(staff["officer"])
    response = client.post(detail_url(inquiry), {"template": "", "replies_seen": 0, "use_template": "1"})
    assert response.status_code == 400
    assert "Choose a reply from the library first." in response.content.decode()


def test_sending_a_reply_answers_the_inquiry_and_texts_the_borrower(client, staff, inquiry, library, li, clock):
    clock.move_to(datetime(2026, 3, 3, 11, 30, tzinfo=SHANGHAI), tick=False)
    response = send(client, staff["officer"], inquiry, template=library["payment"].pk)

    assert response.status_code == 302
    assert response["Location"].startswith(detail_url(inquiry))
    answered = Inquiry.objects.get(pk=inquiry.pk)
    assert answered.status == "answered" and answered.response_minutes == 90
    reply = InquiryReply.objects.get(inquiry=inquiry)
    assert reply.author == staff["officer"] and reply.template == library["payment"]
    assert reply.text == "您好，下次还款日为3月10日。"
    sms = OutboxMessage.objects.get(template="inquiry_answered")
    assert sms.channel == "sms" and sms.to_address == li.mobile and sms.recipient == li.user

    page = client.get(detail_url(inquiry)).content.decode()
    assert "Your reply is sent" in page and "您好，下次还款日为3月10日。" in page
    assert "1 h 30 min" in page


def test_posting_the_same_form_twice_sends_one_reply(client, staff, inquiry):
    first = send(client, staff["officer"], inquiry)
    second = send(client, staff["officer"], inquiry, follow=True)

    assert first.status_code == 302
    assert InquiryReply.objects.filter(inquiry=inquiry).count() == 1
    assert OutboxMessage.objects.filter(template="inquiry_answered").count() == 1
    assert "A reply was sent since this page was opened, so yours was not sent." in second.content.decode()
    # a follow-up reply from a fresh page (which saw one reply) goes through
    assert send(client, staff["officer"], inquiry, text="补充：可在App内还款。", seen=1).status_code == 302
    assert InquiryReply.objects.filter(inquiry=inquiry).count() == 2


def test_an_empty_reply_comes_back_with_the_services_error(client, staff, inquiry):
    response = send(client, staff["officer"], inquiry, text="   ")
    assert response.status_code == 400
    assert "Write the reply, or pick one from the library." in response.content.decode()
    assert not InquiryReply.objects.exists()


def test_another_officer_is_told_who_replies(client, staff, inquiry):
    client.force_login(staff["officer2"])
    page = client.get(detail_url(inquiry)).content.decode()
    assert 'data-testid="send-reply"' not in page and "they or a manager reply" in page

    response = send(client, staff["officer2"], inquiry, follow=True)
    assert "This inquiry is assigned to 张伟; they or a manager reply." in response.content.decode()
    assert not InquiryReply.objects.exists()


# --- reassignment -------------------------------------------------------------------------------------------------
def test_manager_reassigns_an_open_inquiry_and_the_due_time_stays(client, staff, inquiry):
    client.force_login(staff["manager"])
    page = client.get(detail_url(inquiry)).content.decode()
    assert reverse("followups:inquiry_reassign", args=[inquiry.pk]) in page
    assert "fu_officer_sh" not in page  # only colleagues of the inquiry's branch are offered

    response = client.post(
        reverse("followups:inquiry_reassign", args=[inquiry.pk]), {"assignee": staff["risk"].pk}, follow=True
    )

    moved = Inquiry.objects.get(pk=inquiry.pk)
    assert moved.assignee == staff["risk"] and moved.due_at == inquiry.due_at
    assert "now assigned to fu_risk" in response.content.decode()
    # the new assignee may now reply; the former one may not
    assert send(client, staff["risk"], inquiry).status_code == 302
    assert InquiryReply.objects.get().author == staff["risk"]


def test_reassignment_is_for_managers_and_colleagues_of_the_branch(client, staff, inquiry):
    url = reverse("followups:inquiry_reassign", args=[inquiry.pk])
    client.force_login(staff["officer"])
    assert 'id="reassign"' not in client.get(detail_url(inquiry)).content.decode()
    assert client.post(url, {"assignee": staff["officer2"].pk}).status_code == 403

    client.force_login(staff["manager"])
    response = client.post(url, {"assignee": staff["other_officer"].pk}, follow=True)
    assert "Choose an officer, risk officer or manager of the inquiry&#x27;s branch." in response.content.decode()

    client.force_login(staff["other_manager"])
    assert client.post(url, {"assignee": staff["officer2"].pk}).status_code == 404
    assert Inquiry.objects.get(pk=inquiry.pk).assignee == staff["officer"]


def test_the_menu_offers_the_inbox_to_officers_risk_officers_and_managers(client, staff):
    url = reverse("followups:inquiries")
    for role in ("officer", "risk", "manager"):
        client.force_login(staff[role])
        assert f'href="{url}"' in client.get(url).content.decode()
    client.force_login(staff["reviewer"])
    assert f'href="{url}"' not in client.get(reverse("applications:review_queue")).content.decode()
