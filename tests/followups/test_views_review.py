"""The risk officer's pages: the review queue and review page, the risk warnings and their actions, and the
borrower's questionnaire page reached by its link."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from followups.models import FollowUp, Questionnaire, RiskWarning, WarningAction
from followups.services import questionnaire_send
from followups.services.warnings import warning_acknowledge, warning_raise_for_followup
from notifications.models import OutboxMessage
from postloan.models import ClassificationProposal, Restructuring
from tests.postloan.factories import on

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 1, 20)
WEDNESDAY_LATE = date(2026, 1, 21)


@pytest.fixture(autouse=True)
def _staff_read_english(staff):
    for user in staff.values():
        user.preferred_language = "en"
        user.save(update_fields=["preferred_language"])


def completed(loan, *, level: str = "low", signals=(), by=None, summary: str = "经营正常") -> FollowUp:
    """A record as the officer submits it (quarterly, numbered on, so a test may make several)."""
    return FollowUp.objects.create(
        loan=loan,
        kind="quarterly",
        sequence=FollowUp.objects.filter(loan=loan, kind="quarterly").count() + 1,
        branch=loan.branch,
        officer=loan.officer,
        due_on=date(2026, 2, 9),
        planned_on=date(2026, 2, 9),
        status="completed",
        subject="borrower",
        subject_name=loan.borrower.name,
        channel="phone",
        answers={"funds_use": True, "business_status": "declining"},
        risk_level=level,
        risk_signals=list(signals),
        summary=summary,
        completed_by=by or loan.officer,
        completed_at=timezone.now(),
    )


def open_warning(loan) -> RiskWarning:
    with on(TUESDAY, 10):
        return warning_raise_for_followup(followup=completed(loan, level="high", summary="店铺停业，收入骤降"))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- review -------------------------------------------------------------------------------------------------------
def test_the_review_pages_are_for_risk_officers_of_the_branch(client, staff, loan):
    record = completed(loan)
    client.force_login(staff["officer"])
    assert client.get("/followups/reviews/").status_code == 403
    assert client.get(f"/followups/reviews/{record.pk}/").status_code == 403

    client.force_login(staff["other_risk"])
    assert client.get(f"/followups/reviews/{record.pk}/").status_code == 404
    assert f"review-row-{record.pk}" not in client.get("/followups/reviews/").content.decode()

    client.force_login(staff["risk"])
    queue = client.get("/followups/reviews/")
    assert queue.status_code == 200
    assert f"review-row-{record.pk}" in queue.content.decode()
    assert queue.context["page_obj"].paginator.count == 1


def test_the_queue_is_empty_with_a_message_when_nothing_waits(client, staff, loan):
    client.force_login(staff["risk"])
    content = client.get("/followups/reviews/").content.decode()
    assert 'data-testid="empty-state"' in content


def test_a_risk_officer_approves_a_record_and_it_leaves_the_queue(client, staff, loan, question_sets):
    record = completed(loan)
    client.force_login(staff["risk"])
    page = client.get(f"/followups/reviews/{record.pk}/")
    content = page.content.decode()
    assert "How is the business or employment going?" in content and "Declining" in content  # the answers
    assert 'data-testid="review-form"' in content

    response = client.post(f"/followups/reviews/{record.pk}/", {"decision": "approve", "note": ""}, follow=True)

    record.refresh_from_db()
    assert (record.status, record.reviewed_by) == ("approved", staff["risk"])
    assert response.redirect_chain[-1][0] == "/followups/reviews/"
    assert "The follow-up record is approved; it is final from now on." in messages_of(response)
    assert response.context["page_obj"].paginator.count == 0


def test_returning_needs_a_note_and_then_goes_back_to_the_officer(client, staff, loan):
    record = completed(loan)
    client.force_login(staff["risk"])

    refused = client.post(f"/followups/reviews/{record.pk}/", {"decision": "return", "note": " "})
    assert refused.status_code == 400
    assert "Say what the officer must correct." in refused.content.decode()
    record.refresh_from_db()
    assert record.status == "completed" and record.reviewed_by is None

    client.post(f"/followups/reviews/{record.pk}/", {"decision": "return", "note": "请补充担保人情况"})
    record.refresh_from_db()
    assert (record.status, record.review_note) == ("returned", "请补充担保人情况")


def test_nobody_approves_their_own_record_and_is_told_why(client, staff, loan):
    own = completed(loan, by=staff["risk"])
    client.force_login(staff["risk"])

    page = client.get(f"/followups/reviews/{own.pk}/").content.decode()
    assert 'data-testid="own-record"' in page and 'data-testid="review-form"' not in page
    response = client.post(f"/followups/reviews/{own.pk}/", {"decision": "approve"}, follow=True)

    assert "You wrote this follow-up record; another risk officer must review it." in messages_of(response)
    own.refresh_from_db()
    assert own.status == "completed" and own.reviewed_by is None
    # not in their own queue either; another risk officer sees it
    assert client.get("/followups/reviews/").context["page_obj"].paginator.count == 0
    client.force_login(staff["risk2"])
    assert client.get("/followups/reviews/").context["page_obj"].paginator.count == 1


def test_the_review_queue_costs_the_same_queries_for_3_or_15_records(client, staff, loan):
    client.force_login(staff["risk"])

    def queries(count: int) -> int:
        while FollowUp.objects.filter(status="completed").count() < count:
            completed(loan)
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/followups/reviews/")
        assert response.context["page_obj"].paginator.count == count
        return len(captured)

    assert queries(3) == queries(15)


# --- warnings -----------------------------------------------------------------------------------------------------
def test_the_warning_list_shows_the_branchs_warnings_by_age_with_the_breach_flag(client, staff, loan):
    warning = open_warning(loan)
    client.force_login(staff["officer"])
    assert client.get("/followups/warnings/").status_code == 403

    client.force_login(staff["other_risk"])
    assert client.get(f"/followups/warnings/{warning.pk}/").status_code == 404
    assert client.get("/followups/warnings/").context["counts"]["total"] == 0

    client.force_login(staff["risk"])
    with on(TUESDAY, 15):
        fresh = client.get("/followups/warnings/")
    assert fresh.context["counts"] == {"total": 1, "open": 1, "breached": 0}
    assert f"warning-{warning.pk}" in fresh.content.decode()
    assert 'data-testid="breached"' not in fresh.content.decode()

    with on(WEDNESDAY_LATE, 11):  # one business day and an hour later
        late = client.get("/followups/warnings/?status=breached")
    assert late.context["counts"] == {"total": 1, "open": 1, "breached": 1}
    assert 'data-testid="breached"' in late.content.decode()

    client.force_login(staff["manager"])  # managers see the warnings but do not handle them
    with on(TUESDAY, 15):
        page = client.get(f"/followups/warnings/{warning.pk}/").content.decode()
        assert 'data-testid="view-only"' in page
        assert client.post(f"/followups/warnings/{warning.pk}/acknowledge/", {}).status_code == 403


def test_acknowledge_then_resolve_with_the_resolution_required(client, staff, loan):
    warning = open_warning(loan)
    client.force_login(staff["risk"])
    with on(TUESDAY, 15):
        page = client.get(f"/followups/warnings/{warning.pk}/").content.decode()
        assert "店铺停业，收入骤降" in page and 'data-testid="action-acknowledge"' in page
        assert 'data-testid="action-resolve"' not in page

        client.post(f"/followups/warnings/{warning.pk}/acknowledge/", {"note": "今天联系借款人"})
        warning.refresh_from_db()
        assert (warning.status, warning.acknowledged_by) == ("acknowledged", staff["risk"])

        refused = client.post(f"/followups/warnings/{warning.pk}/resolve/", {"resolution": ""})
        assert refused.status_code == 400
        assert "resolution" in refused.context["resolve_form"].errors  # shown again, open, with its error
        warning.refresh_from_db()
        assert warning.status == "acknowledged"

        response = client.post(
            f"/followups/warnings/{warning.pk}/resolve/", {"resolution": "借款人已恢复经营"}, follow=True
        )
    warning.refresh_from_db()
    assert (warning.status, warning.resolution, warning.resolved_by) == ("resolved", "借款人已恢复经营", staff["risk"])
    content = response.content.decode()
    assert "The warning is resolved." in content and 'data-testid="resolved"' in content
    assert "今天联系借款人" in content  # the acknowledgement note in the history


def test_acknowledging_twice_is_refused_with_a_message(client, staff, loan):
    warning = open_warning(loan)
    with on(TUESDAY, 15):
        warning_acknowledge(warning=warning, by=staff["risk2"])
        client.force_login(staff["risk"])
        response = client.post(f"/followups/warnings/{warning.pk}/acknowledge/", {}, follow=True)
    assert any("only an open warning can be acknowledged" in message for message in messages_of(response))
    assert RiskWarning.objects.get(pk=warning.pk).acknowledged_by == staff["risk2"]


def test_an_extra_follow_up_and_an_escalation_are_recorded_on_the_warning(client, staff, loan):
    staff["manager"].email = "manager@example.com"
    staff["manager"].save(update_fields=["email"])
    warning = open_warning(loan)
    client.force_login(staff["risk"])
    with on(TUESDAY, 15):
        past = client.post(f"/followups/warnings/{warning.pk}/extra_followup/", {"due_on": "2026-01-19"})
        assert past.status_code == 400
        assert "The follow-up cannot be due in the past." in past.content.decode()
        assert not FollowUp.objects.filter(kind="extra").exists()

        client.post(f"/followups/warnings/{warning.pk}/extra_followup/", {"due_on": "2026-01-23", "note": "上门"})
        client.post(f"/followups/warnings/{warning.pk}/escalate/", {"note": "建议暂停新增授信"})
        page = client.get(f"/followups/warnings/{warning.pk}/").content.decode()

    extra = FollowUp.objects.get(kind="extra")
    assert (extra.loan, extra.officer, extra.due_on) == (loan, loan.officer, date(2026, 1, 23))
    assert [action.kind for action in WarningAction.objects.filter(warning=warning)] == ["extra_followup", "escalation"]
    assert OutboxMessage.objects.filter(template="followup_warning_escalated", recipient=staff["manager"]).exists()
    assert 'data-testid="history-extra_followup"' in page and "建议暂停新增授信" in page
    assert RiskWarning.objects.get(pk=warning.pk).status == "acknowledged"  # acting acknowledges it


def test_a_classification_change_and_a_restructuring_request_from_the_warning(client, staff, loan):
    warning = open_warning(loan)
    client.force_login(staff["risk"])
    with on(TUESDAY, 15):
        missing = client.post(f"/followups/warnings/{warning.pk}/classification/", {"reason": "涉诉"})
        assert missing.status_code == 400 and not ClassificationProposal.objects.exists()

        client.post(
            f"/followups/warnings/{warning.pk}/classification/",
            {"proposed_class": "substandard", "reason": "涉诉，经营停滞"},
        )
        client.post(
            f"/followups/warnings/{warning.pk}/restructuring/",
            {
                "extend_months": "6",
                "grace_months": "0",
                "new_method": "",
                "new_rate": "",
                "first_due_date": "2026-02-10",
                "reason": "店铺停业三个月",
            },
        )
    proposal = ClassificationProposal.objects.get(loan=loan)
    assert (proposal.proposed_class, proposal.status, proposal.proposed_by) == (
        "substandard",
        "proposed",
        staff["risk"],
    )
    restructuring = Restructuring.objects.get(loan=loan)
    assert (restructuring.status, restructuring.extend_months) == ("requested", 6)
    assert list(WarningAction.objects.filter(warning=warning).values_list("kind", flat=True)) == [
        "classification",
        "restructuring",
    ]


def test_the_warning_list_costs_the_same_queries_for_3_or_15_warnings(client, staff, loan):
    client.force_login(staff["risk"])

    def queries(count: int) -> int:
        while RiskWarning.objects.count() < count:
            open_warning(loan)
        with on(TUESDAY, 15), CaptureQueriesContext(connection) as captured:
            response = client.get("/followups/warnings/")
        assert response.context["counts"]["total"] == count
        return len(captured)

    assert queries(3) == queries(15)


# --- the borrower's questionnaire ---------------------------------------------------------------------------------
@pytest.fixture
def sent(staff, followup, question_sets) -> Questionnaire:
    with on(date(2026, 2, 9), 10):
        return questionnaire_send(followup=followup, by=staff["officer"])


ANSWERS = {"q_funds_use": "yes", "q_business_status": "normal", "q_income_change": "same", "q_new_debts": "no"}


def test_the_borrower_answers_in_their_language_without_signing_in(client, sent):
    url = f"/followups/questionnaire/{sent.token}/"
    with on(date(2026, 2, 10), 9):
        page = client.get(url)
        assert page.status_code == 200
        assert "贷款资金是否按合同约定用途使用？" in page.content.decode()  # the borrower has no account: Chinese

        missing = client.post(url, {"q_funds_use": "yes"})
        assert missing.status_code == 400
        assert FollowUp.objects.get(pk=sent.followup_id).status == "planned"

        done = client.post(url, ANSWERS, follow=True)
    assert 'data-testid="thanks"' in done.content.decode()
    followup = FollowUp.objects.get(pk=sent.followup_id)
    assert (followup.status, followup.channel, followup.subject) == ("completed", "questionnaire", "borrower")
    assert followup.answers == {
        "funds_use": True,
        "business_status": "normal",
        "income_change": "same",
        "new_debts": False,
    }


def test_a_used_link_thanks_and_takes_no_second_answer(client, sent):
    url = f"/followups/questionnaire/{sent.token}/"
    with on(date(2026, 2, 10), 9):
        client.post(url, ANSWERS)
        again = client.post(url, ANSWERS | {"q_new_debts": "yes"})
    assert 'data-testid="thanks"' in again.content.decode() and "questionnaire-form" not in again.content.decode()
    assert FollowUp.objects.get(pk=sent.followup_id).answers["new_debts"] is False


def test_an_expired_or_unknown_link_says_so(client, sent):
    with on(date(2026, 2, 17), 11):  # sent on 9 February, valid for 7 days
        expired = client.get(f"/followups/questionnaire/{sent.token}/")
        posted = client.post(f"/followups/questionnaire/{sent.token}/", ANSWERS)
    assert expired.status_code == 410 and 'data-testid="expired"' in expired.content.decode()
    assert posted.status_code == 410
    assert FollowUp.objects.get(pk=sent.followup_id).status == "planned"

    unknown = client.get("/followups/questionnaire/not-a-token/")
    assert unknown.status_code == 404 and 'data-testid="invalid"' in unknown.content.decode()


def test_a_recorded_follow_up_closes_its_questionnaire(client, sent):
    FollowUp.objects.filter(pk=sent.followup_id).update(status="completed")
    with on(date(2026, 2, 10), 9):
        response = client.get(f"/followups/questionnaire/{sent.token}/")
    assert response.status_code == 410 and 'data-testid="closed"' in response.content.decode()


def test_sending_links_to_the_answer_page(sent):
    sms = OutboxMessage.objects.get(template="followup_questionnaire", channel="sms")
    assert f"/followups/questionnaire/{sent.token}/" in str(sms.context["link"])
    assert timedelta(days=7) == sent.expires_at - sent.sent_at


# --- the verification call on the initial-review page -------------------------------------------------------------
def test_the_reviewer_plans_a_verification_call_and_later_sees_its_result(client, staff, application_in_review):
    application = application_in_review
    page_url = f"/applications/{application.pk}/review/initial/"
    client.force_login(staff["reviewer"])
    page = client.get(page_url).content.decode()
    assert 'data-testid="verification-none"' in page and 'data-testid="plan-verification"' in page

    response = client.post(
        f"/followups/applications/{application.pk}/verification-call/", {"next": page_url}, follow=True
    )
    call = FollowUp.objects.get(application=application, kind="verification_call")
    assert (call.officer, call.status) == (staff["reviewer"], "planned")
    assert response.redirect_chain[-1][0] == page_url
    content = response.content.decode()
    assert 'data-testid="verification-planned"' in content and 'data-testid="plan-verification"' not in content

    FollowUp.objects.filter(pk=call.pk).update(
        status="completed",
        subject_name="李明",
        risk_level="low",
        summary="本人确认借款用途为进货",
        completed_by=staff["reviewer"],
        completed_at=timezone.now(),
    )
    decided = client.get(page_url).content.decode()
    assert 'data-testid="verification-result"' in decided and "本人确认借款用途为进货" in decided


def test_planning_a_verification_call_is_for_the_branch_reviewer_or_officer(client, staff, application_in_review):
    url = f"/followups/applications/{application_in_review.pk}/verification-call/"
    client.force_login(staff["other_officer"])
    assert client.post(url).status_code == 404
    client.force_login(staff["risk"])
    response = client.post(url, follow=True)
    assert any("Only the application's officer or a reviewer" in message for message in messages_of(response))
    assert not FollowUp.objects.filter(application=application_in_review).exists()


# --- the loan's page ----------------------------------------------------------------------------------------------
def test_the_loan_page_lists_its_follow_ups_and_open_warnings_without_a_query_per_row(client, staff, loan):
    client.force_login(staff["risk"])

    def queries() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/loans/{loan.pk}/")
        return len(captured), response.content.decode()

    warning = open_warning(loan)
    few, content = queries()
    assert f'href="/followups/warnings/{warning.pk}/"' in content
    assert f'data-testid="loan-followup-{warning.followup_id}"' in content
    for _ in range(6):
        open_warning(loan)
    many, content = queries()
    assert few == many
    assert len(re.findall(r'href="/followups/warnings/\d+/"', content)) == 7
