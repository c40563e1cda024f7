"""Doing a follow-up: the record, contact attempts, review and amendments, visit photos, the online questionnaire, the
pre-loan contacts, and the worklists and record page that show them."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from applications.models import ApplicationEvent
from core.dates import SHANGHAI
from followups import selectors
from followups.models import ContactAttempt, FollowUp, FollowUpAmendment, FollowUpPhoto, Questionnaire, RiskWarning
from followups.services import (
    TransitionError,
    application_contact_create,
    followup_amend,
    followup_attempt_log,
    followup_complete,
    followup_photo_add,
    followup_review,
    questionnaire_answer,
    questionnaire_link,
    questionnaire_send,
)
from notifications import sms
from notifications.models import OutboxMessage
from notifications.services import message_send
from postloan.models import LoanEvent
from tests.applications.factories import PDF_BYTES, PNG_BYTES, RESIDENT_IDS
from tests.conftest import require_service
from tests.postloan.factories import on

from .factories import CUSTODIAN, GOOD_ANSWERS, GUARANTOR, make_question_set, make_script, planned_followup, record
from .factories import disbursed_loan as make_loan

pytestmark = pytest.mark.django_db

DUE = date(2026, 2, 9)  # Monday: the first follow-up of the default loan is due
FRIDAY = date(2026, 2, 13)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def clock(time_machine):
    """Shanghai 10:00 on the day the follow-up is due, unless a test moves it."""
    time_machine.move_to(at(DUE), tick=False)
    return time_machine


def complete(followup, by, **overrides) -> FollowUp:
    return followup_complete(followup=followup, by=by, **record(**overrides))


def fresh(followup) -> FollowUp:
    return FollowUp.objects.get(pk=followup.pk)


def snapshot(followup) -> dict:
    row = FollowUp.objects.filter(pk=followup.pk).values().get()
    row.pop("updated_at")
    return row


def errors_of(excinfo) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def approved(followup, staff) -> FollowUp:
    complete(followup, staff["officer"])
    return followup_review(followup=fresh(followup), by=staff["risk"], decision="approve", note="")


# --- completing a record ------------------------------------------------------------------------------------------
def test_it_completes_a_planned_followup_and_submits_it_for_review(clock, staff, loan, followup, question_sets):
    done = complete(followup, staff["officer"], summary="借款人经营正常。", next_steps="三个月后再访。")

    saved = fresh(done)
    assert saved.status == "completed"
    assert (saved.subject, saved.subject_name, saved.channel) == ("borrower", "李明", "phone")
    assert saved.answers == GOOD_ANSWERS
    assert saved.question_set == question_sets["first"]
    assert (saved.repayment_ability, saved.willingness, saved.risk_level) == ("stable", "good", "low")
    assert saved.completed_by == staff["officer"]
    assert saved.completed_at == at(DUE)
    assert (saved.summary, saved.next_steps) == ("借款人经营正常。", "三个月后再访。")
    note = LoanEvent.objects.get(loan=loan, kind="note")
    assert note.data["followup"] == saved.pk
    assert "借款人经营正常" in note.note
    assert not RiskWarning.objects.exists()
    assert saved.history.first().history_user == staff["officer"]


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("officer2", "Only the assigned officer"),
        ("other_officer", "another branch"),
        ("risk", "Your role does not allow this."),
        ("manager", "Your role does not allow this."),
        ("reviewer", "Your role does not allow this."),
    ],
)
def test_it_lets_only_the_assigned_officer_record_it(clock, staff, followup, question_sets, who, message):
    before = snapshot(followup)

    with pytest.raises(PermissionDenied, match=message):
        complete(followup, staff[who])

    assert snapshot(followup) == before


def test_a_reassigned_followup_is_recorded_by_the_new_officer(clock, staff, followup, question_sets):
    FollowUp.objects.filter(pk=followup.pk).update(officer=staff["officer2"])
    reassigned = fresh(followup)

    with pytest.raises(PermissionDenied, match="Only the assigned officer"):
        complete(reassigned, staff["officer"])
    complete(reassigned, staff["officer2"])

    assert fresh(followup).completed_by == staff["officer2"]


@pytest.mark.parametrize("status", ["completed", "approved", "cancelled"])
def test_it_records_only_a_planned_or_returned_followup(clock, staff, followup, question_sets, status):
    FollowUp.objects.filter(pk=followup.pk).update(status=status)
    before = snapshot(followup)

    with pytest.raises(TransitionError) as excinfo:
        complete(fresh(followup), staff["officer"])

    if status == "approved":
        assert "approved and can no longer be changed" in str(excinfo.value)
    else:
        assert "not possible while the follow-up is" in str(excinfo.value)
    assert snapshot(followup) == before


def test_a_stale_copy_cannot_complete_a_record_someone_else_completed(clock, staff, followup, question_sets):
    stale = fresh(followup)
    complete(followup, staff["officer"])

    with pytest.raises(TransitionError):
        complete(stale, staff["officer"], summary="第二次")

    assert fresh(followup).summary == "借款人经营正常，按时还款。"


def test_it_checks_the_answers_against_the_checklist_of_the_kind(clock, staff, followup, question_sets):
    answers = {"funds_use": "maybe", "business_status": "booming", "new_debts": False, "shoe_size": "42"}

    with pytest.raises(ValidationError) as excinfo:
        complete(followup, staff["officer"], answers=answers)

    errors = errors_of(excinfo)
    assert errors["q_funds_use"] == ["Answer yes or no."]
    assert errors["q_business_status"] == ["Choose one of the answers offered."]
    assert errors["q_income_change"] == ["Answer this question: it is on the checklist."]
    assert errors["answers"] == ["These answers are not questions of the checklist: shoe_size."]
    assert "q_new_debts" not in errors and "q_remarks" not in errors
    assert fresh(followup).status == "planned"


def test_it_stores_answers_in_their_types_and_the_set_used(clock, staff, followup, question_sets):
    answers = {"funds_use": "yes", "business_status": "normal", "income_change": "up", "new_debts": "no"}
    answers["remarks"] = "  新开一家分店  "

    complete(followup, staff["officer"], answers=answers)

    saved = fresh(followup)
    assert saved.answers == {
        "funds_use": True,
        "business_status": "normal",
        "income_change": "up",
        "new_debts": False,
        "remarks": "新开一家分店",
    }
    # A later checklist does not change what this record was answered against.
    question_sets["first"].is_active = False
    question_sets["first"].save()
    make_question_set("first")
    assert fresh(followup).question_set == question_sets["first"]


def test_it_uses_the_active_set_of_the_followups_own_kind(clock, staff, loan, question_sets):
    short = (("calm", "态度", "Attitude", "choice", (("calm", "平和", "Calm"),), True),)
    question_sets["second"].is_active = False
    question_sets["second"].save()
    second_set = make_question_set("second", questions=short)
    second = planned_followup(loan, kind="second", due_on=DUE)

    with pytest.raises(ValidationError) as excinfo:
        complete(second, staff["officer"])
    assert "q_calm" in errors_of(excinfo)

    complete(second, staff["officer"], answers={"calm": "calm"})
    assert fresh(second).question_set == second_set


def test_it_reports_every_missing_part_of_the_record_at_once(clock, staff, followup, question_sets):
    with pytest.raises(ValidationError) as excinfo:
        followup_complete(
            followup=followup,
            by=staff["officer"],
            subject="neighbour",
            channel="fax",
            answers=GOOD_ANSWERS,
            funds_used_as_contracted=None,
            repayment_ability="",
            willingness="maybe",
            risk_signals=["bad_vibes"],
            risk_level="",
            summary="  ",
            next_steps="",
        )

    assert set(errors_of(excinfo)) == {
        "subject",
        "channel",
        "funds_used_as_contracted",
        "repayment_ability",
        "willingness",
        "risk_signals",
        "risk_level",
        "summary",
    }


# --- who was contacted --------------------------------------------------------------------------------------------
def test_the_borrower_is_named_from_the_loan(clock, staff, followup, question_sets):
    complete(followup, staff["officer"], subject="borrower", subject_name="someone else")

    assert fresh(followup).subject_name == "李明"


def test_a_guarantor_must_be_one_of_the_contracts_parties(clock, staff, followup, question_sets):
    with pytest.raises(ValidationError) as excinfo:
        complete(followup, staff["officer"], subject="guarantor", subject_name="刘备")
    assert errors_of(excinfo)["subject_name"] == [f"Choose the guarantor from the loan's parties: {GUARANTOR}."]

    complete(followup, staff["officer"], subject="guarantor", subject_name=GUARANTOR)

    assert (fresh(followup).subject, fresh(followup).subject_name) == ("guarantor", GUARANTOR)


def test_the_only_party_of_a_role_is_named_when_no_name_is_given(clock, staff, followup, question_sets):
    complete(followup, staff["officer"], subject="collateral_custodian")

    assert fresh(followup).subject_name == CUSTODIAN


def test_a_role_the_loan_has_no_party_for_is_refused(clock, staff, followup, question_sets):
    with pytest.raises(ValidationError) as excinfo:
        complete(followup, staff["officer"], subject="authorized_representative", subject_name="任何人")

    assert errors_of(excinfo)["subject"] == ["This loan has no authorized representative among its parties."]


def test_the_parties_are_the_contracts_not_the_applications_later_ones(clock, staff, loan, followup, question_sets):
    # The contract keeps the parties as signed: a party added to the application afterwards is not a loan party.
    loan.contract.application.parties.create(role="authorized_representative", name="后来的人", mobile="13600136000")

    with pytest.raises(ValidationError):
        complete(followup, staff["officer"], subject="authorized_representative", subject_name="后来的人")


# --- channels -----------------------------------------------------------------------------------------------------
def test_a_visit_needs_its_location_and_attendees(clock, staff, followup, question_sets):
    with pytest.raises(ValidationError) as excinfo:
        complete(followup, staff["officer"], channel="visit")
    assert set(errors_of(excinfo)) == {"location", "attendees"}

    complete(followup, staff["officer"], channel="visit", location="朝阳区建国路1号店铺", attendees="李明、张伟")

    saved = fresh(followup)
    assert (saved.channel, saved.location, saved.attendees) == ("visit", "朝阳区建国路1号店铺", "李明、张伟")


def test_a_phone_record_keeps_no_visit_details(clock, staff, followup, question_sets):
    complete(followup, staff["officer"], channel="phone", location="某处", attendees="某人")

    assert (fresh(followup).location, fresh(followup).attendees) == ("", "")


def test_the_questionnaire_channel_is_not_recorded_by_hand(clock, staff, followup, question_sets):
    with pytest.raises(ValidationError) as excinfo:
        complete(followup, staff["officer"], channel="questionnaire")

    assert "online questionnaire completes the record" in errors_of(excinfo)["channel"][0]


# --- risk ---------------------------------------------------------------------------------------------------------
def test_a_high_risk_level_opens_one_risk_warning(clock, staff, loan, followup, question_sets):
    complete(followup, staff["officer"], risk_level="high", repayment_ability="declining", next_steps="一周内上门。")

    warning = RiskWarning.objects.get()
    assert (warning.loan, warning.followup_id, warning.level, warning.status) == (loan, followup.pk, "high", "open")


@pytest.mark.parametrize("signal", ["job_loss", "litigation", "guarantor_problem"])
def test_a_serious_signal_opens_a_warning_even_at_a_low_level(clock, staff, followup, question_sets, signal):
    complete(followup, staff["officer"], risk_signals=[signal], risk_level="low", next_steps="持续关注。")

    assert RiskWarning.objects.get().signals == [signal]


def test_funds_not_used_as_contracted_is_the_fund_misuse_signal(clock, staff, followup, question_sets):
    complete(followup, staff["officer"], funds_used_as_contracted=False, next_steps="要求说明资金去向。")

    assert fresh(followup).risk_signals == ["fund_misuse"]
    assert RiskWarning.objects.get().signals == ["fund_misuse"]


def test_risk_found_needs_next_steps(clock, staff, followup, question_sets):
    with pytest.raises(ValidationError) as excinfo:
        complete(followup, staff["officer"], risk_level="high", next_steps=" ")

    assert errors_of(excinfo) == {"next_steps": ["Risk was found: say what happens next."]}
    assert not RiskWarning.objects.exists()


def test_completing_again_after_a_return_opens_no_second_warning(clock, staff, followup, question_sets):
    complete(followup, staff["officer"], risk_level="high", next_steps="上门。")
    followup_review(followup=fresh(followup), by=staff["risk"], decision="return", note="补充担保人情况")
    complete(fresh(followup), staff["officer"], risk_level="high", next_steps="上门并联系担保人。")

    assert RiskWarning.objects.count() == 1
    assert fresh(followup).status == "completed"


# --- contact attempts ---------------------------------------------------------------------------------------------
def test_a_failed_attempt_is_logged_and_the_followup_moves_past_the_weekend(time_machine, staff, followup):
    time_machine.move_to(at(FRIDAY, 16), tick=False)

    attempt = followup_attempt_log(followup=followup, by=staff["officer"], outcome="no_answer", note="无人接听")

    assert (attempt.outcome, attempt.note, attempt.attempted_at, attempt.by) == (
        "no_answer",
        "无人接听",
        at(FRIDAY, 16),
        staff["officer"],
    )
    assert attempt.outside_hours is False
    saved = fresh(followup)
    assert saved.due_on == date(2026, 2, 16)  # Monday, not Saturday
    assert saved.planned_on == DUE
    assert saved.failed_attempts == 1
    assert saved.status == "planned"


@pytest.mark.parametrize(
    ("hour", "minute", "flagged"),
    [(21, 30, True), (21, 0, False), (20, 59, False), (7, 59, True), (8, 0, False), (23, 0, True)],
)
def test_attempts_outside_8_to_21_are_flagged(time_machine, staff, followup, hour, minute, flagged):
    time_machine.move_to(at(DUE, 23, 30), tick=False)

    attempt = followup_attempt_log(
        followup=followup, by=staff["officer"], outcome="busy", attempted_at=at(DUE, hour, minute)
    )

    assert attempt.outside_hours is flagged


def test_an_attempt_logged_late_still_moves_the_followup_after_today(time_machine, staff, followup):
    time_machine.move_to(at(FRIDAY, 11), tick=False)

    followup_attempt_log(followup=followup, by=staff["officer"], outcome="busy", attempted_at=at(DUE, 9))

    assert fresh(followup).due_on == date(2026, 2, 16)


def test_three_failed_attempts_raise_lost_contact_once(time_machine, staff, loan, followup):
    for day, outcome in [(DUE, "no_answer"), (date(2026, 2, 10), "busy"), (date(2026, 2, 11), "no_answer")]:
        time_machine.move_to(at(day, 15), tick=False)
        followup_attempt_log(followup=fresh(followup), by=staff["officer"], outcome=outcome)
        assert RiskWarning.objects.count() == (1 if day == date(2026, 2, 11) else 0)

    warning = RiskWarning.objects.get()
    assert (warning.loan, warning.followup_id, warning.signals) == (loan, followup.pk, ["lost_contact"])

    time_machine.move_to(at(date(2026, 2, 12), 15), tick=False)
    followup_attempt_log(followup=fresh(followup), by=staff["officer"], outcome="refused")

    assert RiskWarning.objects.count() == 1
    assert fresh(followup).failed_attempts == 4
    assert ContactAttempt.objects.filter(followup=followup).count() == 4


def test_attempts_are_checked(clock, staff, followup):
    with pytest.raises(ValidationError) as excinfo:
        followup_attempt_log(followup=followup, by=staff["officer"], outcome="gone_fishing")
    assert "outcome" in errors_of(excinfo)

    with pytest.raises(ValidationError) as excinfo:
        followup_attempt_log(followup=followup, by=staff["officer"], outcome="busy", attempted_at=at(DUE, 18))
    assert errors_of(excinfo) == {"attempted_at": ["An attempt cannot be logged in the future."]}

    with pytest.raises(PermissionDenied):
        followup_attempt_log(followup=followup, by=staff["other_officer"], outcome="busy")
    with pytest.raises(PermissionDenied):
        followup_attempt_log(followup=followup, by=staff["officer2"], outcome="busy")
    assert not ContactAttempt.objects.exists()
    assert fresh(followup).failed_attempts == 0


def test_no_attempt_is_logged_on_a_submitted_record(clock, staff, followup, question_sets):
    complete(followup, staff["officer"])

    with pytest.raises(TransitionError):
        followup_attempt_log(followup=fresh(followup), by=staff["officer"], outcome="busy")

    assert not ContactAttempt.objects.exists()


# --- review -------------------------------------------------------------------------------------------------------
def test_a_risk_officer_approves_a_completed_record(clock, staff, followup, question_sets):
    complete(followup, staff["officer"])

    followup_review(followup=fresh(followup), by=staff["risk"], decision="approve", note="记录完整")

    saved = fresh(followup)
    assert (saved.status, saved.reviewed_by, saved.reviewed_at, saved.review_note) == (
        "approved",
        staff["risk"],
        at(DUE),
        "记录完整",
    )


def test_a_returned_record_goes_back_to_the_officer_and_is_completed_again(clock, staff, followup, question_sets):
    complete(followup, staff["officer"])

    with pytest.raises(ValidationError) as excinfo:
        followup_review(followup=fresh(followup), by=staff["risk"], decision="return", note="")
    assert errors_of(excinfo) == {"note": ["Say what the officer must correct."]}
    assert fresh(followup).status == "completed"

    followup_review(followup=fresh(followup), by=staff["risk"], decision="return", note="请补充收入变化情况")
    returned = fresh(followup)
    assert (returned.status, returned.review_note) == ("returned", "请补充收入变化情况")

    complete(returned, staff["officer"], summary="收入略有增加。")
    followup_review(followup=fresh(followup), by=staff["risk2"], decision="approve")

    saved = fresh(followup)
    assert (saved.status, saved.summary, saved.reviewed_by) == ("approved", "收入略有增加。", staff["risk2"])


def test_nobody_reviews_a_record_they_wrote(clock, staff, make_user, loan, question_sets):
    both = make_user("fu_both", "officer", "risk_officer", branch=loan.branch)
    followup = planned_followup(loan, officer=both)
    complete(followup, both)

    with pytest.raises(PermissionDenied, match="You wrote this follow-up record; another risk officer must review it"):
        followup_review(followup=fresh(followup), by=both, decision="approve")

    assert fresh(followup).status == "completed"


@pytest.mark.parametrize(
    ("who", "error"),
    [("officer2", PermissionDenied), ("manager", PermissionDenied), ("other_risk", PermissionDenied)],
)
def test_only_a_risk_officer_in_scope_reviews(clock, staff, followup, question_sets, who, error):
    complete(followup, staff["officer"])

    with pytest.raises(error):
        followup_review(followup=fresh(followup), by=staff[who], decision="approve")

    assert fresh(followup).status == "completed"


def test_a_head_office_risk_officer_reviews_any_branch(clock, staff, followup, question_sets):
    complete(followup, staff["officer"])

    followup_review(followup=fresh(followup), by=staff["hq_risk"], decision="approve")

    assert fresh(followup).status == "approved"


@pytest.mark.parametrize("status", ["planned", "returned", "approved"])
def test_only_a_completed_record_is_reviewed(clock, staff, followup, status):
    FollowUp.objects.filter(pk=followup.pk).update(status=status)

    with pytest.raises(TransitionError):
        followup_review(followup=fresh(followup), by=staff["risk"], decision="approve")

    assert fresh(followup).status == status


def test_a_decision_is_approve_or_return(clock, staff, followup, question_sets):
    complete(followup, staff["officer"])

    with pytest.raises(ValidationError):
        followup_review(followup=fresh(followup), by=staff["risk"], decision="reject", note="不行")


# --- approved records are immutable -------------------------------------------------------------------------------
def test_an_approved_record_refuses_every_change(clock, staff, followup, question_sets):
    record_ = approved(followup, staff)
    before = snapshot(record_)
    message = "approved and can no longer be changed; add an amendment instead"

    with pytest.raises(TransitionError, match=message):
        complete(record_, staff["officer"], summary="改写")
    with pytest.raises(TransitionError, match=message):
        followup_attempt_log(followup=record_, by=staff["officer"], outcome="busy")
    with pytest.raises(TransitionError, match=message):
        followup_photo_add(followup=record_, by=staff["officer"], upload=png())
    with pytest.raises(TransitionError, match=message):
        questionnaire_send(followup=record_, by=staff["officer"])
    with pytest.raises(TransitionError, match=message):
        followup_review(followup=record_, by=staff["risk2"], decision="return", note="再看看")

    assert snapshot(record_) == before
    assert not ContactAttempt.objects.exists()
    assert not FollowUpPhoto.objects.exists()
    assert not Questionnaire.objects.exists()


def test_corrections_to_an_approved_record_are_amendments_beside_it(clock, staff, followup, question_sets):
    record_ = approved(followup, staff)
    before = snapshot(record_)

    by_author = followup_amend(followup=record_, by=staff["officer"], text="担保人姓名应为王强，非王墙。")
    by_risk = followup_amend(followup=record_, by=staff["risk2"], text="已与担保人核实。")

    assert list(FollowUpAmendment.objects.filter(followup=followup)) == [by_author, by_risk]
    assert (by_author.by, by_author.created_at) == (staff["officer"], at(DUE))
    assert snapshot(record_) == before


def test_amendments_are_refused_to_others_and_before_approval(clock, staff, followup, question_sets):
    complete(followup, staff["officer"])
    with pytest.raises(TransitionError, match="Only an approved record takes amendments"):
        followup_amend(followup=fresh(followup), by=staff["officer"], text="更正")

    record_ = followup_review(followup=fresh(followup), by=staff["risk"], decision="approve")
    with pytest.raises(PermissionDenied):
        followup_amend(followup=record_, by=staff["officer2"], text="更正")
    with pytest.raises(PermissionDenied):
        followup_amend(followup=record_, by=staff["other_risk"], text="更正")
    with pytest.raises(ValidationError):
        followup_amend(followup=record_, by=staff["officer"], text="  ")

    assert not FollowUpAmendment.objects.exists()


# --- visit photos -------------------------------------------------------------------------------------------------
def png(name: str = "shop.png", content: bytes = PNG_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


def test_a_visit_photo_is_stored_under_a_random_name(clock, staff, followup, settings):
    photo = followup_photo_add(followup=followup, by=staff["officer"], upload=png("门店照片.png"), caption="门店")

    saved = FollowUpPhoto.objects.get(pk=photo.pk)
    assert (saved.original_name, saved.content_type, saved.size, saved.caption) == (
        "门店照片.png",
        "image/png",
        len(PNG_BYTES),
        "门店",
    )
    assert saved.file.name.startswith(f"followups/{followup.pk}/") and saved.file.name.endswith(".png")
    assert "门店照片" not in saved.file.name
    with saved.file.open("rb") as stored:
        assert stored.read() == PNG_BYTES


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("shop.png", b"MZ\x90\x00 not an image", content_type="image/png"), "Only PDF, JPEG"),
        (SimpleUploadedFile("shop.png", PDF_BYTES, content_type="image/png"), "The file name says one type"),
        (SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"), "MB"),
    ],
)
def test_a_photo_is_checked_by_its_content(clock, staff, followup, upload, message):
    with pytest.raises(ValidationError) as excinfo:
        followup_photo_add(followup=followup, by=staff["officer"], upload=upload)

    assert message in errors_of(excinfo)["upload"][0]
    assert not FollowUpPhoto.objects.exists()


def test_photos_are_added_by_the_assigned_officer_before_submission(clock, staff, followup, question_sets):
    with pytest.raises(PermissionDenied):
        followup_photo_add(followup=followup, by=staff["other_officer"], upload=png())
    complete(followup, staff["officer"])
    with pytest.raises(TransitionError):
        followup_photo_add(followup=fresh(followup), by=staff["officer"], upload=png())

    assert not FollowUpPhoto.objects.exists()


# --- online questionnaire -----------------------------------------------------------------------------------------
def test_sending_a_questionnaire_queues_an_sms_with_its_link(clock, staff, followup, question_sets, settings):
    settings.SITE_URL = "https://loans.example.cn/"
    sms.outbox.clear()

    questionnaire = questionnaire_send(followup=followup, by=staff["officer"])

    assert questionnaire.expires_at == at(DUE) + timedelta(days=7)
    link = questionnaire_link(questionnaire.token)
    assert link == f"https://loans.example.cn/followups/questionnaire/{questionnaire.token}/"
    saved = fresh(followup)
    assert (saved.status, saved.channel, saved.question_set) == ("planned", "questionnaire", question_sets["first"])
    message = OutboxMessage.objects.get(template="followup_questionnaire")
    assert (message.channel, message.to_address, message.audience) == ("sms", "13800138000", "borrower")
    assert message.context["link"] == link

    message_send(message_id=message.pk)

    assert fresh_message(message).status == "sent"
    assert sms.outbox[-1]["to"] == "13800138000"
    assert link in sms.outbox[-1]["text"]
    assert "李明" in sms.outbox[-1]["text"]


def fresh_message(message) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


def test_the_link_is_the_sites_answer_page(staff, settings):
    settings.SITE_URL = "https://loans.example.cn/"

    assert questionnaire_link("abc") == "https://loans.example.cn/followups/questionnaire/abc/"


def test_the_borrowers_answers_complete_the_record(clock, staff, followup, question_sets):
    questionnaire = questionnaire_send(followup=followup, by=staff["officer"])
    clock.move_to(at(DUE + timedelta(days=2), 19), tick=False)

    answered = questionnaire_answer(token=questionnaire.token, answers={**GOOD_ANSWERS, "income_change": "up"})

    assert answered.answered_at == at(DUE + timedelta(days=2), 19)
    saved = fresh(followup)
    assert (saved.status, saved.channel, saved.subject, saved.subject_name) == (
        "completed",
        "questionnaire",
        "borrower",
        "李明",
    )
    assert saved.completed_by is None
    assert saved.answers["income_change"] == "up"
    assert Questionnaire.objects.get().answers == saved.answers
    # Nobody wrote it: any risk officer of the branch may review it.
    followup_review(followup=saved, by=staff["risk"], decision="approve")
    assert fresh(followup).status == "approved"


def test_a_used_expired_or_unknown_link_is_refused(clock, staff, loan, followup, question_sets):
    questionnaire = questionnaire_send(followup=followup, by=staff["officer"])
    questionnaire_answer(token=questionnaire.token, answers=GOOD_ANSWERS)

    with pytest.raises(TransitionError, match="already been answered"):
        questionnaire_answer(token=questionnaire.token, answers=GOOD_ANSWERS)
    with pytest.raises(TransitionError, match="not valid"):
        questionnaire_answer(token="no-such-token", answers=GOOD_ANSWERS)

    second = planned_followup(loan, kind="second", due_on=DUE)
    late = questionnaire_send(followup=second, by=staff["officer"])
    clock.move_to(at(DUE + timedelta(days=7), 10, 1), tick=False)
    with pytest.raises(TransitionError, match="expired on"):
        questionnaire_answer(token=late.token, answers=GOOD_ANSWERS)

    assert fresh(second).status == "planned"
    assert Questionnaire.objects.get(pk=late.pk).answered_at is None


def test_questionnaire_answers_are_checked_and_nothing_is_kept_on_error(clock, staff, followup, question_sets):
    questionnaire = questionnaire_send(followup=followup, by=staff["officer"])

    with pytest.raises(ValidationError) as excinfo:
        questionnaire_answer(token=questionnaire.token, answers={"funds_use": True})

    assert set(errors_of(excinfo)) == {"q_business_status", "q_income_change", "q_new_debts"}
    assert Questionnaire.objects.get().answered_at is None
    assert fresh(followup).status == "planned"


def test_a_questionnaire_the_officer_overtook_is_refused(clock, staff, followup, question_sets):
    questionnaire = questionnaire_send(followup=followup, by=staff["officer"])
    complete(fresh(followup), staff["officer"])

    with pytest.raises(TransitionError, match="already recorded"):
        questionnaire_answer(token=questionnaire.token, answers=GOOD_ANSWERS)


def test_a_live_link_is_not_sent_twice_but_an_expired_one_is_replaced(clock, staff, followup, question_sets):
    first = questionnaire_send(followup=followup, by=staff["officer"])
    with pytest.raises(TransitionError, match="already sent"):
        questionnaire_send(followup=fresh(followup), by=staff["officer"])

    clock.move_to(at(DUE + timedelta(days=8)), tick=False)
    second = questionnaire_send(followup=fresh(followup), by=staff["officer"])

    assert second.pk == first.pk and second.token != first.token
    assert OutboxMessage.objects.filter(template="followup_questionnaire").count() == 2
    with pytest.raises(TransitionError, match="not valid"):
        questionnaire_answer(token=first.token, answers=GOOD_ANSWERS)
    questionnaire_answer(token=second.token, answers=GOOD_ANSWERS)
    assert fresh(followup).status == "completed"


def test_no_questionnaire_without_a_checklist(clock, staff, followup):
    with pytest.raises(ValidationError, match="no checklist"):
        questionnaire_send(followup=followup, by=staff["officer"])

    assert not Questionnaire.objects.exists()
    assert not OutboxMessage.objects.filter(template="followup_questionnaire").exists()


# --- pre-loan contacts --------------------------------------------------------------------------------------------
def test_a_reviewer_plans_and_records_a_verification_call(clock, staff, application_in_review, question_sets):
    call = application_contact_create(application=application_in_review, by=staff["reviewer"], kind="verification_call")

    assert (call.application, call.loan, call.officer, call.branch_id, call.due_on) == (
        application_in_review,
        None,
        staff["reviewer"],
        application_in_review.branch_id,
        DUE,
    )
    assert ApplicationEvent.objects.filter(application=application_in_review, data__followup=call.pk).exists()
    assert selectors.verification_calls(application_in_review) == {"planned": call, "result": None}

    complete(call, staff["reviewer"], funds_used_as_contracted=None, risk_level="high", next_steps="复核收入。")

    calls = selectors.verification_calls(application_in_review)
    result = calls["result"]
    assert (result, result.status, result.subject_name, calls["planned"]) == (call, "completed", "李明", None)
    assert not RiskWarning.objects.exists()  # no loan yet: the reviewer weighs it in the decision


def test_the_applications_officer_plans_a_consultation(clock, staff, application_in_review):
    consultation = application_contact_create(
        application=application_in_review, by=staff["officer"], kind="consultation", due_on=date(2026, 2, 11)
    )

    assert (consultation.kind, consultation.officer, consultation.due_on) == (
        "consultation",
        staff["officer"],
        date(2026, 2, 11),
    )


@pytest.mark.parametrize(("who", "error"), [("officer2", PermissionDenied), ("risk", PermissionDenied)])
def test_only_the_applications_officer_or_a_reviewer_plans_a_contact(clock, staff, application_in_review, who, error):
    with pytest.raises(error):
        application_contact_create(application=application_in_review, by=staff[who], kind="verification_call")

    assert not FollowUp.objects.exists()


def test_a_reviewer_of_another_branch_cannot_plan_a_contact(clock, staff, make_user, branches, application_in_review):
    outsider = make_user("fu_reviewer_sh", "reviewer", branch=branches["SH"])

    with pytest.raises(PermissionDenied):
        application_contact_create(application=application_in_review, by=outsider, kind="verification_call")


def test_a_verification_call_belongs_to_initial_review_and_is_planned_once(clock, staff, loan, application_in_review):
    application_contact_create(application=application_in_review, by=staff["reviewer"], kind="verification_call")
    with pytest.raises(TransitionError, match="already planned"):
        application_contact_create(application=application_in_review, by=staff["reviewer"], kind="verification_call")
    with pytest.raises(TransitionError, match="not possible while the application is"):
        application_contact_create(
            application=loan.contract.application, by=staff["reviewer"], kind="verification_call"
        )
    with pytest.raises(ValidationError):
        application_contact_create(application=application_in_review, by=staff["reviewer"], kind="first")
    with pytest.raises(ValidationError):
        application_contact_create(
            application=application_in_review, by=staff["reviewer"], kind="consultation", due_on=date(2026, 2, 1)
        )

    assert FollowUp.objects.filter(application__isnull=False).count() == 1


# --- isolation ----------------------------------------------------------------------------------------------------
def test_another_branch_sees_and_does_nothing(clock, staff, followup, question_sets):
    with pytest.raises(PermissionDenied, match="another branch"):
        complete(followup, staff["other_officer"])
    with pytest.raises(PermissionDenied, match="another branch"):
        questionnaire_send(followup=followup, by=staff["other_officer"])
    with pytest.raises(Http404):
        selectors.followup_detail(user=staff["other_officer"], pk=followup.pk)
    assert not selectors.review_queue(user=staff["other_risk"]).exists()
    assert selectors.followup_detail(user=staff["hq_risk"], pk=followup.pk) == followup


# --- worklists ----------------------------------------------------------------------------------------------------
def test_the_officers_today_page_sorts_their_followups(clock, staff, loan, question_sets):
    mine = {
        "overdue": planned_followup(loan, kind="extra", sequence=1, due_on=DUE - timedelta(days=3)),
        "due_today": planned_followup(loan, kind="extra", sequence=2, due_on=DUE),
        "soon": planned_followup(loan, kind="extra", sequence=3, due_on=DUE + timedelta(days=7)),
        "later": planned_followup(loan, kind="extra", sequence=4, due_on=DUE + timedelta(days=8)),
        "returned": planned_followup(loan, kind="extra", sequence=5, due_on=DUE - timedelta(days=10)),
        "done": planned_followup(loan, kind="extra", sequence=6, due_on=DUE - timedelta(days=5)),
    }
    planned_followup(loan, kind="extra", sequence=7, due_on=DUE, officer=staff["officer2"])
    FollowUp.objects.filter(pk=mine["returned"].pk).update(status="returned")
    complete(mine["done"], staff["officer"])

    today = selectors.officer_today(user=staff["officer"], today=DUE)

    assert list(today["overdue"]) == [mine["overdue"]]
    assert list(today["due_today"]) == [mine["due_today"]]
    assert list(today["next_7_days"]) == [mine["soon"]]
    assert list(today["returned"]) == [mine["returned"]]
    assert today["counts"] == {"overdue": 1, "due_today": 1, "next_7_days": 1, "returned": 1}


def test_the_review_queue_is_the_branchs_completed_records_oldest_first(clock, staff, make_user, loan, question_sets):
    both = make_user("fu_both", "officer", "risk_officer", branch=loan.branch)
    older = planned_followup(loan, kind="extra", sequence=1, due_on=DUE)
    newer = planned_followup(loan, kind="extra", sequence=2, due_on=DUE)
    own = planned_followup(loan, kind="extra", sequence=3, due_on=DUE, officer=both)
    complete(older, staff["officer"])
    clock.move_to(at(DUE, 11), tick=False)
    complete(newer, staff["officer"])
    complete(own, both)

    assert list(selectors.review_queue(user=staff["risk"])) == [older, newer, own]
    assert list(selectors.review_queue(user=both)) == [older, newer]
    assert list(selectors.review_queue(user=staff["other_risk"])) == []
    assert list(selectors.review_queue(user=staff["hq_risk"])) == [older, newer, own]


# --- the record page ----------------------------------------------------------------------------------------------
def test_the_record_page_has_what_to_prepare_the_checklist_and_the_script(clock, staff, loan, question_sets):
    make_script("first")
    earlier = planned_followup(loan, kind="extra", sequence=1, due_on=DUE)
    approved(earlier, staff)
    current = planned_followup(loan)
    complete(current, staff["officer"], risk_level="high", next_steps="上门。")
    followup_review(followup=fresh(current), by=staff["risk"], decision="return", note="补充")
    followup_attempt_log(followup=fresh(current), by=staff["officer"], outcome="busy")

    detail = selectors.followup_detail(user=staff["officer"], pk=current.pk)

    assert {party["name"] for party in detail.loan.contract.parties} == {GUARANTOR, CUSTODIAN}
    assert len(detail.loan.schedule) == 12
    assert detail.loan.last_approved_followup == earlier
    assert [warning.followup_id for warning in detail.loan.open_warnings] == [current.pk]
    assert [attempt.outcome for attempt in detail.attempt_list] == ["busy"]
    assert detail.checklist == question_sets["first"]
    assert [question.code for question in detail.checklist.questions.all()][:2] == ["funds_use", "business_status"]
    assert detail.script_text == (
        "Hello 李明, this is 张伟, your loan officer. Your loan of ¥120,000.00 is next due on 10 February 2026."
    )


def test_the_script_is_filled_in_the_language_asked_for(clock, staff, loan, followup):
    make_script("first", body_zh="{borrower_name}您好，{unknown}下次还款{next_due_amount}，日期{next_due_date}。")

    text = selectors.script_for(followup, "zh-hans")

    assert text == "李明您好，{unknown}下次还款¥10,435.00，日期2026年2月10日。"


def test_an_overdue_call_falls_back_to_the_soft_collection_script(clock, staff, loan):
    make_script("", title_zh="通用", body_zh="通用话术", body_en="General script")
    make_script("", category="soft_collection", body_zh="温和催收", body_en="Soft collection for {borrower_name}")
    call = planned_followup(loan, kind="overdue_call", due_on=DUE)

    assert selectors.script_for(call, "en") == "Soft collection for 李明"
    assert selectors.script_for(planned_followup(loan, kind="second", due_on=DUE), "en") == "General script"
    FollowUp.objects.filter(pk=call.pk).delete()


# --- queries ------------------------------------------------------------------------------------------------------
def count(function) -> int:
    with CaptureQueriesContext(connection) as queries:
        function()
    return len(queries)


def show_today(user) -> None:
    today = selectors.officer_today(user=user, today=DUE)
    for name in ("overdue", "due_today", "next_7_days", "returned"):
        for row in today[name]:
            # What a row of the page shows (followups.templatetags.worklist_rows), nothing deferred left to load.
            assert row.loan.borrower.name and row.loan.number and row.kind and row.due_on and row.status
    assert today["counts"]


def show_queue(user) -> None:
    for row in selectors.review_queue(user=user):
        assert row.loan.borrower.name and row.completed_by.username and row.loan.number


def add_followups(loan, first_sequence: int, how_many: int, officer) -> None:
    rows = []
    for sequence in range(first_sequence, first_sequence + how_many):
        due_on = DUE + timedelta(days=(sequence % 10) - 4)
        status = ("planned", "returned", "completed")[sequence % 3]
        rows.append(
            FollowUp(
                loan=loan,
                kind="extra",
                sequence=sequence,
                branch_id=loan.branch_id,
                officer=officer,
                due_on=due_on,
                planned_on=due_on,
                status=status,
                completed_by=officer if status == "completed" else None,
                completed_at=at(DUE) if status == "completed" else None,
            )
        )
    FollowUp.objects.bulk_create(rows)


def test_the_worklists_cost_the_same_for_5_or_25_followups(clock, staff, loan):
    other_loan = make_loan(staff, identity=RESIDENT_IDS[2])
    add_followups(loan, 1, 3, staff["officer"])
    add_followups(other_loan, 1, 2, staff["officer"])
    few = (count(lambda: show_today(staff["officer"])), count(lambda: show_queue(staff["risk"])))

    add_followups(loan, 10, 12, staff["officer"])
    add_followups(other_loan, 10, 8, staff["officer"])
    many = (count(lambda: show_today(staff["officer"])), count(lambda: show_queue(staff["risk"])))

    assert FollowUp.objects.count() == 25
    assert few == many
    assert many[0] <= 6 and many[1] <= 1  # today: two counts (planned up to a week ahead, returned) and 4 pages


def show_detail(user, pk) -> None:
    detail = selectors.followup_detail(user=user, pk=pk)
    assert detail.loan.borrower.name and detail.loan.contract.number and detail.officer.username
    for attempt in detail.attempt_list:
        assert attempt.by.username
    for photo in detail.photo_list:
        assert photo.uploaded_by.username
    for amendment in detail.amendment_list:
        assert amendment.by.username
    for installment in detail.loan.schedule:
        assert installment.due_date
    for other in detail.loan.approved_followups:
        assert other.completed_by.username
    for question in detail.checklist.questions.all():
        assert question.code
    for warning in detail.loan.open_warnings:
        assert warning.level


def test_the_record_page_costs_the_same_for_5_or_25_attempts_photos_and_amendments(clock, staff, loan, question_sets):
    make_script("first")
    current = planned_followup(loan)

    def add(how_many: int) -> None:
        ContactAttempt.objects.bulk_create(
            ContactAttempt(followup=current, outcome="busy", attempted_at=at(DUE, 9), by=staff["officer"])
            for _index in range(how_many)
        )
        FollowUpPhoto.objects.bulk_create(
            FollowUpPhoto(
                followup=current,
                file=f"followups/{current.pk}/x.png",
                original_name="x.png",
                content_type="image/png",
                size=1,
                uploaded_by=staff["officer"],
            )
            for _index in range(how_many)
        )
        FollowUpAmendment.objects.bulk_create(
            FollowUpAmendment(followup=current, text="更正", by=staff["risk"]) for _index in range(how_many)
        )
        add_followups(loan, 100 + FollowUp.objects.count(), how_many, staff["officer2"])
        FollowUp.objects.filter(loan=loan, kind="extra").update(
            status="approved", completed_at=at(DUE), completed_by=staff["officer2"]
        )

    add(5)
    few = count(lambda: show_detail(staff["officer"], current.pk))
    add(20)
    many = count(lambda: show_detail(staff["officer"], current.pk))

    assert few == many
    assert many <= 10


# --- at the same time, on PostgreSQL -------------------------------------------------------------------------------
WORKERS = 8


def race(tasks) -> list:
    """Run the tasks on threads (one database connection each) that start together; each result or exception."""
    barrier = threading.Barrier(len(tasks))

    def run(task):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                try:
                    return task()
                except Exception as exc:
                    return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        return list(pool.map(run, tasks))


@pytest.mark.django_db(transaction=True)
def test_simultaneous_failed_attempts_raise_lost_contact_exactly_once(staff, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = make_loan(staff)
    followup = planned_followup(loan)

    def attempt():
        return followup_attempt_log(followup=fresh(followup), by=staff["officer"], outcome="no_answer")

    with on(DUE, 15):
        results = race([attempt] * WORKERS)

    assert [result for result in results if isinstance(result, Exception)] == []
    assert fresh(followup).failed_attempts == WORKERS
    assert ContactAttempt.objects.filter(followup=followup).count() == WORKERS
    assert RiskWarning.objects.filter(followup=followup, signals=["lost_contact"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_questionnaire_answered_twice_at_once_completes_the_record_once(staff, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = make_loan(staff)
    followup = planned_followup(loan)
    make_question_set("first")
    with on(DUE):
        token = questionnaire_send(followup=followup, by=staff["officer"]).token
        results = race([lambda: questionnaire_answer(token=token, answers=GOOD_ANSWERS)] * WORKERS)

    assert len([result for result in results if isinstance(result, Questionnaire)]) == 1
    refusals = [result for result in results if not isinstance(result, Questionnaire)]
    assert {type(result) for result in refusals} == {TransitionError}
    assert fresh(followup).status == "completed"
    assert fresh(followup).history.filter(status="completed").count() == 1
