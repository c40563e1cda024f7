"""Borrowers' inquiries (咨询) through followups.services.inquiries: who gets a question and by when it must be answered
(working hours), the staff reply and its response time, the reply library filled in the borrower's language,
reassignment, and the satisfaction ratings of an answered inquiry or a completed follow-up."""

from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from accounts.roles import Role
from applications.models import Borrower, TransitionError
from core.dates import SHANGHAI, add_working_hours
from core.money import format_yuan
from followups.models import FollowUp, Inquiry, InquiryReply, ReplyTemplate, SatisfactionSurvey
from followups.services import followup_complete, followup_review
from followups.services.inquiries import (
    followup_rate,
    inquiry_create,
    inquiry_rate,
    inquiry_reassign,
    inquiry_reply,
    reply_fill,
    route,
)
from followups.services.records import application_contact_create
from notifications.models import OutboxMessage
from tests.applications.factories import RESIDENT_IDS, make_application, make_borrower

from .factories import record

pytestmark = pytest.mark.django_db

# Friday 6 March 2026 at 17:00 in Shanghai: an hour of the working day is left.
FRIDAY_5PM = datetime(2026, 3, 6, 17, 0, tzinfo=SHANGHAI)
MONDAY = date(2026, 3, 9)
MOBILE = "13800138000"
FOLLOWUP_DUE = datetime(2026, 2, 9, 10, 0, tzinfo=SHANGHAI)  # the default loan's first follow-up


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _plain_calendar(settings):
    settings.LOANTRACK_HOLIDAYS = []
    settings.LOANTRACK_EXTRA_WORKDAYS = []


@pytest.fixture(autouse=True)
def _staff_contacts(staff):
    """Everyone has an email address (the assignee hears of an inquiry by email); the officer has a phone."""
    for user in staff.values():
        user.email = f"{user.username}@example.com"
        user.save(update_fields=["email"])
    staff["officer"].phone = "13911112222"
    staff["officer"].save(update_fields=["phone"])


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(FRIDAY_5PM, tick=False)
    return time_machine


def portal_user(borrower: Borrower, make_user, username: str = "b1", language: str = "zh-hans") -> User:
    user = make_user(username, Role.BORROWER, preferred_language=language)
    borrower.user = user
    borrower.save(update_fields=["user"])
    return user


@pytest.fixture
def borrower(staff) -> Borrower:
    """李明 of the Beijing branch, taken in by the officer, with neither an application nor a loan yet."""
    return make_borrower(staff["officer"])


@pytest.fixture
def asker(borrower, make_user) -> User:
    return portal_user(borrower, make_user)


@pytest.fixture
def application(staff, product, borrower):
    """A draft application of 李明's, handled by the branch's second officer."""
    return make_application(staff["officer2"], borrower=borrower)


@pytest.fixture
def loan_owner(loan, make_user) -> User:
    return portal_user(loan.borrower, make_user)


def ask(borrower: Borrower, by: User, category: str = "progress", question: str = "我的申请到哪一步了？", **about):
    return inquiry_create(borrower=borrower, by=by, category=category, question=question, **about)


def outbox(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("pk"))


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# --- routing and the due time --------------------------------------------------------------------------------------
def test_a_friday_five_pm_progress_question_goes_to_the_officer_due_monday_noon(clock, staff, application, asker):
    inquiry = ask(application.borrower, asker, "progress", "  我的申请到哪一步了？  ")

    inquiry = fresh(inquiry)
    assert inquiry.assignee == staff["officer2"]  # the officer of the application, not the borrower's first officer
    assert inquiry.branch_id == application.branch_id
    assert (inquiry.category, inquiry.question, inquiry.status) == ("progress", "我的申请到哪一步了？", "open")
    assert inquiry.created_at == FRIDAY_5PM
    assert inquiry.target_hours == 4
    assert inquiry.due_at == at(MONDAY, 12)
    assert inquiry.due_at == add_working_hours(inquiry.created_at, 4)
    assert inquiry.number == "IQ2026000001"
    assert (inquiry.answered_at, inquiry.response_minutes) == (None, None)
    assert not inquiry.is_breached


@pytest.mark.parametrize(
    ("category", "hours", "due"),
    [
        ("progress", 4, at(MONDAY, 12)),
        ("repayment", 4, at(MONDAY, 12)),
        ("product", 9, at(MONDAY, 17)),
        ("other", 9, at(MONDAY, 17)),
    ],
)
def test_questions_go_to_the_officer_with_their_target(clock, staff, application, asker, category, hours, due):
    inquiry = ask(application.borrower, asker, category, "请问？")

    assert (inquiry.assignee, inquiry.target_hours, inquiry.due_at) == (staff["officer2"], hours, due)


def test_a_complaint_goes_to_the_branch_manager_within_one_working_day(clock, staff, application, asker):
    inquiry = ask(application.borrower, asker, "complaint", "客户经理一直不回电话。")

    assert inquiry.assignee == staff["manager"]
    assert inquiry.branch == staff["manager"].branch
    assert (inquiry.target_hours, inquiry.due_at) == (9, at(MONDAY, 17))


def test_a_complaint_goes_to_head_office_when_the_branch_has_no_active_manager(
    clock, staff, branches, application, asker, make_user
):
    head_office_manager = make_user("fu_manager_hq", Role.MANAGER, branch=branches["HQ"])
    User.objects.filter(pk=staff["manager"].pk).update(is_active=False)

    inquiry = ask(application.borrower, asker, "complaint", "投诉")

    assert inquiry.assignee == head_office_manager
    assert inquiry.branch_id == application.branch_id  # still the branch's inquiry


def test_a_complaint_goes_to_the_officer_when_there_is_no_manager_at_all(clock, staff, application, asker):
    User.objects.filter(groups__name=Role.MANAGER).update(is_active=False)

    inquiry = ask(application.borrower, asker, "complaint", "投诉")

    assert inquiry.assignee == staff["officer2"]


def test_a_complaint_of_a_shanghai_borrower_goes_to_the_shanghai_manager(clock, staff, make_user):
    borrower = make_borrower(staff["other_officer"], number=RESIDENT_IDS[2], mobile="13600136000")
    user = portal_user(borrower, make_user)

    inquiry = ask(borrower, user, "complaint", "投诉")

    assert inquiry.assignee == staff["other_manager"]
    assert inquiry.branch == borrower.branch


def test_a_borrower_with_nothing_yet_is_answered_by_the_officer_who_took_them_in(clock, staff, borrower, asker):
    inquiry = ask(borrower, asker, "product", "有哪些产品？")

    assert inquiry.assignee == staff["officer"]
    assert inquiry.branch == borrower.branch


def test_a_repayment_question_goes_to_the_loans_officer_and_a_progress_question_to_the_latest_application(
    staff, loan, loan_owner
):
    borrower = loan.borrower
    newer = make_application(staff["officer2"], borrower=borrower, amount="50000.00")

    assert route(borrower=borrower, category="repayment", application=None, loan=None) == (
        staff["officer"],
        loan.branch_id,
    )
    assert route(borrower=borrower, category="progress", application=None, loan=None)[0] == staff["officer2"]
    assert route(borrower=borrower, category="progress", application=None, loan=loan)[0] == staff["officer"]
    assert route(borrower=borrower, category="complaint", application=newer, loan=None) == (
        staff["manager"],
        newer.branch_id,
    )


def test_the_inquiry_keeps_the_application_or_loan_it_is_about(clock, staff, loan, loan_owner):
    inquiry = ask(loan.borrower, loan_owner, "repayment", "这个月还多少？", loan=loan)

    assert (inquiry.loan, inquiry.application, inquiry.assignee) == (loan, None, staff["officer"])


def test_a_question_asked_on_a_sunday_is_due_on_monday(time_machine, staff, application, asker):
    time_machine.move_to(at(date(2026, 3, 8), 22), tick=False)

    inquiry = ask(application.borrower, asker, "progress")

    assert inquiry.due_at == at(MONDAY, 13)


def test_a_configured_holiday_moves_the_due_time(clock, settings, application, asker):
    settings.LOANTRACK_HOLIDAYS = [MONDAY.isoformat()]

    inquiry = ask(application.borrower, asker, "progress")

    assert inquiry.due_at == at(date(2026, 3, 10), 12)


def test_the_assignee_is_told_by_email(clock, staff, application, asker):
    inquiry = ask(application.borrower, asker, "progress")

    [message] = outbox("inquiry_assigned")
    assignee = staff["officer2"]
    assert (message.channel, message.to_address, message.recipient) == ("email", assignee.email, assignee)
    assert (message.audience, message.language) == ("staff", assignee.preferred_language)
    assert message.context["number"] == inquiry.number
    assert message.context["name"] == str(assignee)
    assert "2026" in message.context["due"] and "12:00" in message.context["due"]
    assert outbox("inquiry_answered") == []


def test_no_email_when_the_assignee_has_no_address(clock, staff, application, asker):
    User.objects.filter(pk=staff["officer2"].pk).update(email="")

    inquiry = ask(application.borrower, asker, "progress")

    assert inquiry.assignee == staff["officer2"]
    assert outbox("inquiry_assigned") == []


def test_numbers_follow_each_other(clock, application, asker):
    numbers = [ask(application.borrower, asker, "other", f"问题{n}").number for n in range(3)]

    assert numbers == ["IQ2026000001", "IQ2026000002", "IQ2026000003"]


# --- what is refused when asking -----------------------------------------------------------------------------------
def nothing_asked() -> bool:
    return not Inquiry.objects.exists() and not outbox("inquiry_assigned")


BAD_QUESTIONS = [
    ({"question": ""}, "question"),
    ({"question": "  \n  "}, "question"),
    ({"question": None}, "question"),
    ({"question": "问" * 2001}, "question"),
    ({"category": "gossip"}, "category"),
]


def test_a_bad_question_is_refused_and_nothing_is_asked(clock, application, asker):
    for changes, field in BAD_QUESTIONS:
        arguments = {"category": "progress", "question": "请问？"} | changes
        with pytest.raises(ValidationError) as excinfo:
            inquiry_create(borrower=application.borrower, by=asker, **arguments)
        assert list(excinfo.value.message_dict) == [field], changes

    assert nothing_asked()


def test_a_question_of_exactly_2000_characters_is_accepted(clock, application, asker):
    inquiry = ask(application.borrower, asker, "other", "问" * 2000)

    assert len(fresh(inquiry).question) == 2000


def test_an_application_or_loan_of_another_borrower_is_refused(clock, staff, loan, product, make_user):
    borrower = make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile="13900139000")
    user = portal_user(borrower, make_user, username="b2")
    theirs = loan.contract.application

    with pytest.raises(ValidationError) as excinfo:
        ask(borrower, user, "progress", application=theirs)
    assert list(excinfo.value.message_dict) == ["application"]
    with pytest.raises(ValidationError) as excinfo:
        ask(borrower, user, "repayment", loan=loan)
    assert list(excinfo.value.message_dict) == ["loan"]

    assert nothing_asked()


def test_only_the_borrower_asks_for_themselves(clock, staff, borrower, asker, make_user):
    other = make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile="13900139000")
    other_user = portal_user(other, make_user, username="b2")

    for user in (other_user, staff["officer"]):
        with pytest.raises(PermissionDenied):
            ask(borrower, user, "other")

    assert nothing_asked()


# --- replies -------------------------------------------------------------------------------------------------------
@pytest.fixture
def inquiry(clock, application, asker):
    """A progress question asked on Friday at 17:00, assigned to officer2, due on Monday at 12:00."""
    return ask(application.borrower, asker, "progress")


def test_the_first_reply_answers_the_inquiry_with_its_response_time_in_working_minutes(clock, staff, inquiry, asker):
    clock.move_to(at(MONDAY, 10, 30))

    reply = inquiry_reply(inquiry=inquiry, by=staff["officer2"], text="  已进入审查，请耐心等待。 ")

    assert (reply.author, reply.text, reply.created_at) == (
        staff["officer2"],
        "已进入审查，请耐心等待。",
        at(MONDAY, 10, 30),
    )
    stored = fresh(inquiry)
    assert stored.status == "answered"
    assert stored.answered_at == at(MONDAY, 10, 30)
    assert stored.response_minutes == 60 + 90  # Friday 17:00–18:00 and Monday 09:00–10:30
    assert not stored.is_breached
    assert (inquiry.status, inquiry.response_minutes) == ("answered", 150)  # the caller's copy too
    [sms] = outbox("inquiry_answered")
    assert (sms.channel, sms.to_address, sms.recipient, sms.audience) == ("sms", MOBILE, asker, "borrower")
    assert sms.language == asker.preferred_language
    assert sms.context == {"name": "李明", "number": inquiry.number}


def test_a_reply_after_the_due_time_is_late(clock, staff, inquiry):
    clock.move_to(at(MONDAY, 12, 1))

    inquiry_reply(inquiry=inquiry, by=staff["officer2"], text="抱歉回复晚了。")

    stored = fresh(inquiry)
    assert stored.response_minutes == 60 + 181
    assert stored.is_breached


def test_an_unanswered_inquiry_is_late_after_its_due_time(clock, inquiry):
    clock.move_to(at(MONDAY, 11, 59))
    assert not fresh(inquiry).is_breached
    clock.move_to(at(MONDAY, 12, 1))
    assert fresh(inquiry).is_breached


def test_a_second_reply_keeps_the_first_answer_time(clock, staff, inquiry):
    clock.move_to(at(MONDAY, 10))
    inquiry_reply(inquiry=inquiry, by=staff["officer2"], text="第一次回复")
    clock.move_to(at(MONDAY, 15))

    inquiry_reply(inquiry=fresh(inquiry), by=staff["manager"], text="补充说明")

    stored = fresh(inquiry)
    assert (stored.status, stored.answered_at, stored.response_minutes) == ("answered", at(MONDAY, 10), 120)
    assert [reply.text for reply in stored.replies.all()] == ["第一次回复", "补充说明"]
    assert len(outbox("inquiry_answered")) == 2  # the borrower hears of each reply


@pytest.mark.parametrize("who", ["manager", "officer2"])
def test_the_assignee_or_a_branch_manager_replies(clock, staff, inquiry, who):
    inquiry_reply(inquiry=inquiry, by=staff[who], text="您好")

    assert fresh(inquiry).status == "answered"


def test_a_head_office_manager_may_reply(clock, staff, branches, inquiry, make_user):
    head_office_manager = make_user("fu_manager_hq", Role.MANAGER, branch=branches["HQ"])

    inquiry_reply(inquiry=inquiry, by=head_office_manager, text="您好")

    assert fresh(inquiry).status == "answered"


def test_others_may_not_reply(clock, staff, inquiry):
    for who in ("officer", "risk", "reviewer", "approver", "other_manager", "other_officer"):
        with pytest.raises(PermissionDenied):
            inquiry_reply(inquiry=inquiry, by=staff[who], text="您好")

    assert fresh(inquiry).status == "open"
    assert not InquiryReply.objects.exists()
    assert outbox("inquiry_answered") == []


def test_the_borrower_may_not_reply_to_their_own_inquiry(clock, inquiry, asker):
    with pytest.raises(PermissionDenied):
        inquiry_reply(inquiry=inquiry, by=asker, text="我自己回答")

    assert fresh(inquiry).status == "open"


def test_an_empty_or_too_long_reply_is_refused(clock, staff, inquiry):
    for text in ("", "   ", None, "答" * 2001):
        with pytest.raises(ValidationError) as excinfo:
            inquiry_reply(inquiry=inquiry, by=staff["officer2"], text=text)
        assert list(excinfo.value.message_dict) == ["text"]

    assert fresh(inquiry).status == "open"
    assert not InquiryReply.objects.exists()
    assert outbox("inquiry_answered") == []


def test_a_reply_from_the_library_is_recorded_with_its_template(clock, staff, inquiry, reply_library):
    template = ReplyTemplate.objects.get(code="progress-update")

    reply = inquiry_reply(
        inquiry=inquiry, by=staff["officer2"], text=reply_fill(template=template, inquiry=inquiry), template=template
    )

    assert fresh(reply).template == template


# --- the reply library ---------------------------------------------------------------------------------------------
def test_the_migration_stocks_the_library(reply_library):
    assert set(ReplyTemplate.objects.values_list("code", flat=True)) >= {
        "progress-update",
        "repayment-how-to-pay",
        "product-information",
        "complaint-received",
        "general-thanks",
    }


@pytest.fixture
def library(reply_library):
    return lambda code: ReplyTemplate.objects.get(code=code)


def test_a_progress_reply_is_filled_in_chinese(clock, staff, inquiry, application, library):
    text = reply_fill(template=library("progress-update"), inquiry=inquiry)

    assert text == (
        f"李明您好，您的申请 {application.number} 目前状态为“草稿”。我们会在审查完成后第一时间通知您。"
        f"如有疑问，请联系您的客户经理 {staff['officer2']}（—）。"
    )


def test_a_progress_reply_is_filled_in_english_for_a_borrower_who_chose_it(
    clock, staff, inquiry, application, asker, library
):
    User.objects.filter(pk=asker.pk).update(preferred_language="en")

    text = reply_fill(template=library("progress-update"), inquiry=fresh(inquiry))

    assert text == (
        f"Dear 李明, your application {application.number} is now “Draft”. We will tell you as soon as the review "
        f"is finished. If you have any question, please call your loan officer {staff['officer2']} (—)."
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            "李明您好，您的贷款 {loan} 下一期应还 {amount}，到期日为 2026年2月10日。"
            "请在到期日前将款项存入您的放款账户，我们将自动扣款；也可以到北京朝阳支行柜台还款。"
            "如需帮助，请联系客户经理 张伟（13911112222）。",
        ),
        pytest.param(
            "en",
            "Dear 李明, the next payment on your loan {loan} is {amount}, due on 10 February 2026. Please have the "
            "amount in the account the loan was paid into before that day and we will collect it, or pay at the "
            "Beijing Chaoyang Branch counter. For help, call your loan officer 张伟 (13911112222).",
        ),
    ],
    ids=["zh-hans", "en"],
)
def test_a_repayment_reply_names_the_next_payment_in_the_borrowers_language(
    clock, loan, make_user, language, expected, library
):
    owner = portal_user(loan.borrower, make_user, language=language)
    inquiry = ask(loan.borrower, owner, "repayment", "下个月还多少？")
    first = loan.current_installments().first()

    text = reply_fill(template=library("repayment-how-to-pay"), inquiry=inquiry)

    assert text == expected.format(loan=loan.number, amount=format_yuan(first.outstanding))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "李明您好，我们已收到您的投诉（编号 {number}），北京朝阳支行负责人正在核实情况，"),
        ("en", "Dear 李明, we have received your complaint ({number}). The manager of Beijing Chaoyang Branch is"),
    ],
)
def test_a_complaint_reply_names_the_inquiry_and_the_branch(clock, application, make_user, language, expected, library):
    owner = portal_user(application.borrower, make_user, language=language)
    inquiry = ask(application.borrower, owner, "complaint", "投诉")

    text = reply_fill(template=library("complaint-received"), inquiry=inquiry)

    assert text.startswith(expected.format(number=inquiry.number))


def test_the_general_reply_has_no_placeholder_left(clock, inquiry, library):
    for code in ("general-thanks", "product-information"):
        text = reply_fill(template=library(code), inquiry=inquiry)
        assert "{" not in text and "}" not in text
        assert text.startswith("李明您好")


def test_an_unknown_placeholder_stays_visible(clock, inquiry, application):
    template = ReplyTemplate.objects.create(
        code="custom",
        title_zh="自定义",
        title_en="Custom",
        body_zh="{borrower_name}您好，{no_such_value}。申请编号 {application_number}。",
        body_en="Dear {borrower_name}, {no_such_value}.",
    )

    text = reply_fill(template=template, inquiry=inquiry)

    assert text == f"李明您好，{{no_such_value}}。申请编号 {application.number}。"


def test_a_stray_brace_leaves_the_text_as_written(clock, inquiry):
    template = ReplyTemplate.objects.create(
        code="broken", title_zh="坏", title_en="Broken", body_zh="{borrower_name 您好", body_en="{borrower_name hi"
    )

    assert reply_fill(template=template, inquiry=inquiry) == "{borrower_name 您好"


# --- reassignment --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("to", ["officer", "risk", "manager"])
def test_a_manager_hands_an_inquiry_to_a_colleague_of_the_branch(clock, staff, inquiry, to):
    due = inquiry.due_at

    result = inquiry_reassign(inquiry=inquiry, by=staff["manager"], assignee=staff[to])

    stored = fresh(inquiry)
    assert result.assignee == stored.assignee == staff[to]
    assert stored.due_at == due  # the promise to the borrower stands
    message = outbox("inquiry_assigned")[-1]
    assert (message.to_address, message.recipient) == (staff[to].email, staff[to])


def test_only_a_manager_of_the_branch_reassigns(clock, staff, inquiry):
    for who in ("officer", "officer2", "risk", "reviewer", "other_manager"):
        with pytest.raises(PermissionDenied):
            inquiry_reassign(inquiry=inquiry, by=staff[who], assignee=staff["officer"])

    assert fresh(inquiry).assignee == staff["officer2"]
    assert len(outbox("inquiry_assigned")) == 1


def test_an_inquiry_is_handed_only_to_lending_staff_of_its_branch(clock, staff, inquiry):
    for to in ("other_officer", "other_manager", "reviewer", "approver", "hq_risk"):
        with pytest.raises(ValidationError) as excinfo:
            inquiry_reassign(inquiry=inquiry, by=staff["manager"], assignee=staff[to])
        assert list(excinfo.value.message_dict) == ["assignee"], to

    assert fresh(inquiry).assignee == staff["officer2"]
    assert len(outbox("inquiry_assigned")) == 1


def test_an_inquiry_is_not_handed_to_a_former_colleague(clock, staff, inquiry):
    User.objects.filter(pk=staff["officer"].pk).update(is_active=False)

    with pytest.raises(ValidationError):
        inquiry_reassign(inquiry=inquiry, by=staff["manager"], assignee=fresh(staff["officer"]))

    assert fresh(inquiry).assignee == staff["officer2"]


def test_an_answered_inquiry_is_not_reassigned(clock, staff, inquiry):
    inquiry_reply(inquiry=inquiry, by=staff["officer2"], text="您好")

    with pytest.raises(TransitionError, match="already been answered"):
        inquiry_reassign(inquiry=inquiry, by=staff["manager"], assignee=staff["officer"])

    assert fresh(inquiry).assignee == staff["officer2"]


# --- rating an answered inquiry ------------------------------------------------------------------------------------
@pytest.fixture
def answered(clock, staff, inquiry):
    """Answered first by the manager, then by the assignee."""
    inquiry_reply(inquiry=inquiry, by=staff["manager"], text="我先回复")
    clock.shift(timedelta(minutes=5))
    inquiry_reply(inquiry=fresh(inquiry), by=staff["officer2"], text="补充")
    return fresh(inquiry)


def test_the_borrower_rates_an_answered_inquiry_and_the_first_replier_gets_it(staff, answered, asker):
    survey = inquiry_rate(inquiry=answered, by=asker, rating="4", comment="  回复很快。 ")

    survey = fresh(survey)
    assert (survey.inquiry, survey.followup, survey.borrower) == (answered, None, answered.borrower)
    assert survey.officer == staff["manager"]
    assert (survey.channel, survey.rating, survey.comment) == ("inquiry", 4, "回复很快。")
    assert survey.branch_id == answered.branch_id


def test_an_inquiry_without_a_reply_is_not_rated(inquiry, asker):
    with pytest.raises(TransitionError, match="once you have one"):
        inquiry_rate(inquiry=inquiry, by=asker, rating=5)

    assert not SatisfactionSurvey.objects.exists()


def test_a_rating_outside_one_to_five_is_refused(answered, asker):
    for rating in (0, 6, -1, "abc", None, "", "4.5"):
        with pytest.raises(ValidationError) as excinfo:
            inquiry_rate(inquiry=answered, by=asker, rating=rating)
        assert list(excinfo.value.message_dict) == ["rating"], rating

    assert not SatisfactionSurvey.objects.exists()


@pytest.mark.parametrize("rating", [1, 5])
def test_one_and_five_stars_are_accepted(answered, asker, rating):
    assert inquiry_rate(inquiry=answered, by=asker, rating=rating).rating == rating


def test_a_too_long_comment_is_refused(answered, asker):
    with pytest.raises(ValidationError) as excinfo:
        inquiry_rate(inquiry=answered, by=asker, rating=5, comment="好" * 1001)

    assert list(excinfo.value.message_dict) == ["comment"]
    assert not SatisfactionSurvey.objects.exists()


def test_an_inquiry_is_rated_once(answered, asker):
    inquiry_rate(inquiry=answered, by=asker, rating=5)

    with pytest.raises(TransitionError, match="already rated"):
        inquiry_rate(inquiry=answered, by=asker, rating=1)

    assert list(SatisfactionSurvey.objects.values_list("rating", flat=True)) == [5]


def test_only_the_borrower_who_asked_rates(staff, answered, make_user):
    other = make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile="13900139000")
    other_user = portal_user(other, make_user, username="b2")

    for user in (other_user, staff["officer2"]):
        with pytest.raises(PermissionDenied):
            inquiry_rate(inquiry=answered, by=user, rating=5)

    assert not SatisfactionSurvey.objects.exists()


# --- rating a follow-up --------------------------------------------------------------------------------------------
def completed(followup: FollowUp, by: User) -> FollowUp:
    return followup_complete(followup=followup, by=by, **record())


@pytest.fixture
def completed_followup(time_machine, staff, followup, question_sets):
    """The loan's first follow-up, recorded by phone by the loan's officer on its due day."""
    time_machine.move_to(FOLLOWUP_DUE, tick=False)
    return completed(followup, staff["officer"])


def test_the_borrower_rates_a_completed_follow_up_and_the_officer_who_did_it_gets_it(
    staff, completed_followup, loan_owner
):
    # Handed to someone else afterwards (as the data could show), the rating still goes to who did it.
    FollowUp.objects.filter(pk=completed_followup.pk).update(officer=staff["officer2"])
    followup = fresh(completed_followup)

    survey = followup_rate(followup=followup, by=loan_owner, rating=5, comment="很耐心")

    survey = fresh(survey)
    assert (survey.followup, survey.inquiry, survey.borrower) == (followup, None, followup.loan.borrower)
    assert survey.officer == staff["officer"]
    assert (survey.channel, survey.rating, survey.comment, survey.branch_id) == (
        "phone",
        5,
        "很耐心",
        followup.branch_id,
    )


def test_an_approved_follow_up_may_be_rated(staff, completed_followup, loan_owner):
    followup_review(followup=completed_followup, by=staff["risk"], decision="approve")

    survey = followup_rate(followup=fresh(completed_followup), by=loan_owner, rating=3)

    assert survey.rating == 3


def test_a_planned_or_returned_follow_up_is_not_rated(staff, followup, question_sets, loan_owner, time_machine):
    with pytest.raises(TransitionError, match="once it has taken place"):
        followup_rate(followup=followup, by=loan_owner, rating=5)

    time_machine.move_to(FOLLOWUP_DUE, tick=False)
    completed(followup, staff["officer"])
    followup_review(followup=fresh(followup), by=staff["risk"], decision="return", note="请补充收入情况")
    with pytest.raises(TransitionError, match="once it has taken place"):
        followup_rate(followup=fresh(followup), by=loan_owner, rating=5)

    assert not SatisfactionSurvey.objects.exists()


def test_a_follow_up_rating_outside_one_to_five_is_refused(completed_followup, loan_owner):
    for rating in (0, 6, "x", None):
        with pytest.raises(ValidationError) as excinfo:
            followup_rate(followup=completed_followup, by=loan_owner, rating=rating)
        assert list(excinfo.value.message_dict) == ["rating"]

    assert not SatisfactionSurvey.objects.exists()


def test_a_follow_up_is_rated_once(completed_followup, loan_owner):
    followup_rate(followup=completed_followup, by=loan_owner, rating=2)

    with pytest.raises(TransitionError, match="already rated"):
        followup_rate(followup=completed_followup, by=loan_owner, rating=5)

    assert list(SatisfactionSurvey.objects.values_list("rating", flat=True)) == [2]


def test_only_the_loans_borrower_rates_its_follow_up(staff, completed_followup, loan_owner, make_user):
    other = make_borrower(staff["officer"], number=RESIDENT_IDS[1], name="王芳", mobile="13900139000")
    other_user = portal_user(other, make_user, username="b2")

    for user in (other_user, staff["officer"]):
        with pytest.raises(PermissionDenied):
            followup_rate(followup=completed_followup, by=user, rating=5)

    assert not SatisfactionSurvey.objects.exists()


def test_a_verification_call_is_rated_by_the_applications_borrower(
    time_machine, staff, application_in_review, question_sets, make_user, loan_owner
):
    time_machine.move_to(FOLLOWUP_DUE, tick=False)
    call = application_contact_create(application=application_in_review, by=staff["reviewer"], kind="verification_call")
    followup_complete(followup=call, by=staff["reviewer"], **record(funds_used_as_contracted=None))
    applicant = portal_user(application_in_review.borrower, make_user, username="b2")

    with pytest.raises(PermissionDenied):
        followup_rate(followup=fresh(call), by=loan_owner, rating=5)  # the loan's borrower is someone else
    survey = followup_rate(followup=fresh(call), by=applicant, rating=4)

    assert (survey.borrower, survey.officer, survey.channel) == (
        application_in_review.borrower,
        staff["reviewer"],
        "phone",
    )
