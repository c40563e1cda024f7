"""The officer's follow-up pages: the "today" worklist with its htmx quick attempt, the manager's team view and
reassignment, and the record page (complete, attempts, photos, questionnaire, amendments, downloads)."""

import re
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from core.dates import SHANGHAI
from followups.models import ContactAttempt, FollowUp, FollowUpKind, FollowUpPhoto, Questionnaire, RiskWarning
from followups.selectors import team_counts
from followups.services import (
    TransitionError,
    answer_field,
    application_contact_create,
    followup_complete,
    followup_photo_add,
    followup_reassign,
    followup_review,
)
from tests.applications.factories import PNG_BYTES, RESIDENT_IDS

from .factories import GUARANTOR, make_script, planned_followup, record
from .factories import disbursed_loan as make_loan

pytestmark = pytest.mark.django_db

DUE = date(2026, 2, 9)  # Monday: the first follow-up of the default loan is due


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english_pages(staff):
    User.objects.update(preferred_language="en")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(at(DUE), tick=False)
    return time_machine


def url(name: str, *args) -> str:
    return reverse(f"followups:{name}", args=args)


def fresh(followup) -> FollowUp:
    return FollowUp.objects.get(pk=followup.pk)


def snapshot(followup) -> dict:
    row = FollowUp.objects.filter(pk=followup.pk).values().get()
    row.pop("updated_at")
    return row


def form_data(**overrides) -> dict:
    """What the record form posts for a complete, low-risk phone call with the borrower."""
    data = {
        "subject": "borrower",
        "channel": "phone",
        answer_field("funds_use"): "yes",
        answer_field("business_status"): "normal",
        answer_field("income_change"): "same",
        answer_field("new_debts"): "no",
        "funds_used_as_contracted": "yes",
        "repayment_ability": "stable",
        "willingness": "good",
        "risk_level": "low",
        "summary": "借款人经营正常，按时还款。",
        "next_steps": "",
    }
    return data | overrides


# --- access -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["reviewer", "risk", "manager"])
def test_only_officers_have_a_today_page(client, clock, staff, who):
    client.force_login(staff[who])

    assert client.get(url("today")).status_code == 403


def test_only_managers_have_the_team_view(client, clock, staff):
    client.force_login(staff["officer"])

    assert client.get(url("team")).status_code == 403


def test_a_borrower_cannot_open_a_record(client, clock, staff, followup, make_user):
    client.force_login(make_user("fu_borrower_user", "borrower"))

    assert client.get(url("record", followup.pk)).status_code == 403


@pytest.mark.parametrize("who", ["other_officer", "other_risk", "other_manager"])
def test_another_branch_gets_404_for_the_record_and_its_actions(client, clock, staff, followup, question_sets, who):
    client.force_login(staff[who])
    before = snapshot(followup)

    assert client.get(url("record", followup.pk)).status_code == 404
    if who == "other_officer":
        assert client.post(url("record", followup.pk), form_data()).status_code == 404
        assert client.post(url("attempt_quick", followup.pk), {"outcome": "busy"}).status_code == 404
    assert snapshot(followup) == before


def test_head_office_may_read_a_record(client, clock, staff, followup, question_sets):
    client.force_login(staff["hq_risk"])

    response = client.get(url("record", followup.pk))

    assert response.status_code == 200
    assert 'data-testid="record-form"' not in response.content.decode()


def test_another_officer_of_the_branch_sees_the_record_but_cannot_submit_it(
    client, clock, staff, followup, question_sets
):
    client.force_login(staff["officer2"])
    before = snapshot(followup)

    page = client.get(url("record", followup.pk)).content.decode()
    response = client.post(url("record", followup.pk), form_data(), follow=True)

    assert 'data-testid="record-form"' not in page
    assert "Only the assigned officer" in response.content.decode()
    assert snapshot(followup) == before


def test_a_risk_officer_cannot_post_a_record(client, clock, staff, followup, question_sets):
    client.force_login(staff["risk"])

    assert client.post(url("record", followup.pk), form_data()).status_code == 403
    assert fresh(followup).status == FollowUp.Status.PLANNED


# --- the today page -----------------------------------------------------------------------------------------------
def test_today_lists_overdue_due_today_next_days_and_returned_with_counts(client, clock, staff, loan, question_sets):
    late = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=1, due_on=DUE - timedelta(days=4))
    today = planned_followup(loan)  # due on DUE
    soon = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=2, due_on=DUE + timedelta(days=3))
    later = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=3, due_on=DUE + timedelta(days=20))
    returned = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=4, due_on=DUE - timedelta(days=1))
    FollowUp.objects.filter(pk=returned.pk).update(status=FollowUp.Status.RETURNED)
    client.force_login(staff["officer"])

    def shown(**asked) -> tuple[list[int], str]:
        response = client.get(url("today"), asked)
        assert response.context["counts"] == {"overdue": 1, "due_today": 1, "next_7_days": 1, "returned": 1}
        return [row.pk for row in response.context["page_obj"]], response.content.decode()

    # The late ones open first; each list is one click away, its count on its tab.
    rows, content = shown()
    assert rows == [late.pk]
    assert re.search(r'aria-current="page"\s+data-testid="count-overdue"', content)
    assert "4 days late" in content and loan.number in content and loan.borrower.name in content
    assert f'data-testid="followup-{today.pk}"' not in content  # another list's row waits behind its tab
    assert shown(list="due_today")[0] == [today.pk]
    assert shown(list="next_7_days")[0] == [soon.pk]
    assert shown(list="returned")[0] == [returned.pk]
    assert shown(list="nonsense")[0] == [late.pk]
    assert all(f'data-testid="followup-{later.pk}"' not in shown(list=name)[1] for name in ("next_7_days", "overdue"))


def test_today_opens_the_first_list_with_rows(client, clock, staff, loan):
    soon = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=2, due_on=DUE + timedelta(days=3))
    client.force_login(staff["officer"])

    response = client.get(url("today"))

    assert response.context["shown"] == "next_7_days"
    assert [row.pk for row in response.context["page_obj"]] == [soon.pk]


def test_today_shows_empty_states(client, clock, staff):
    client.force_login(staff["officer"])

    content = client.get(url("today")).content.decode()
    late = client.get(url("today"), {"list": "overdue"}).content.decode()

    assert "No follow-up is due today." in content  # nothing anywhere: today's list opens
    assert 'data-testid="empty-overdue"' in late and "Nothing late. Well done." in late


def test_a_failed_call_is_logged_from_the_row_with_htmx(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])

    response = client.post(url("attempt_quick", followup.pk), {"outcome": "no_answer"}, headers={"HX-Request": "true"})
    content = response.content.decode()

    assert response.status_code == 200
    assert content.lstrip().startswith("<li")  # only the row, swapped in place
    assert f'id="followup-row-{followup.pk}"' in content
    assert "1 failed attempt" in content
    assert "2026-02-10" in content  # moved to the next business day
    attempt = ContactAttempt.objects.get(followup=followup)
    assert (attempt.outcome, attempt.by) == ("no_answer", staff["officer"])
    assert fresh(followup).due_on == date(2026, 2, 10)


def test_every_rows_quick_attempt_form_carries_a_token_the_server_accepts(clock, staff, loan, question_sets):
    """The rows share the page's one CSRF token (core.links, worklist_rows): a browser posting any row's form, with
    the cookie the page set, gets through the CSRF check."""
    from django.test import Client

    first = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=1, due_on=DUE - timedelta(days=2))
    second = planned_followup(loan)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff["officer"])

    tokens = []
    for followup, shown in ((first, "overdue"), (second, "due_today")):
        content = browser.get(url("today"), {"list": shown}).content.decode()
        tokens += re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        form = content[content.index(f'data-testid="attempt-form-{followup.pk}"') :]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
        assert f'action="{url("attempt_quick", followup.pk)}"' in content
        posted = {"outcome": "no_answer", "csrfmiddlewaretoken": token}
        assert browser.post(url("attempt_quick", followup.pk), posted).status_code == 302
    assert len(tokens) >= 2
    assert ContactAttempt.objects.filter(followup__in=[first, second]).count() == 2


def test_a_quick_attempt_without_an_outcome_changes_nothing(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])
    before = snapshot(followup)

    response = client.post(url("attempt_quick", followup.pk), {"outcome": ""}, headers={"HX-Request": "true"})

    assert 'data-testid="row-error"' in response.content.decode()
    assert snapshot(followup) == before
    assert not ContactAttempt.objects.exists()


def test_the_today_page_costs_the_same_for_15_or_60_followups(client, clock, staff, product):
    loans = [make_loan(staff, identity=RESIDENT_IDS[index]) for index in range(3)]
    client.force_login(staff["officer"])

    def add(count: int) -> None:
        existing = FollowUp.objects.filter(kind=FollowUpKind.EXTRA).count()
        for index in range(existing, existing + count):
            loan = loans[index % 3]
            followup = planned_followup(
                loan, kind=FollowUpKind.EXTRA, sequence=index + 1, due_on=DUE + timedelta(days=index % 9 - 3)
            )
            if index % 5 == 4:
                FollowUp.objects.filter(pk=followup.pk).update(status=FollowUp.Status.RETURNED)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("today")).status_code == 200
        return len(captured)

    FollowUp.objects.all().delete()
    add(15)  # every list has rows; the page reads the one it shows
    few = queries()
    add(45)
    many = queries()

    assert FollowUp.objects.count() == 60
    assert many == few


def test_a_long_overdue_list_is_read_one_page_at_a_time(client, clock, staff, loan):
    late = [
        planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=n, due_on=DUE - timedelta(days=40 - n))
        for n in range(1, 31)
    ]
    client.force_login(staff["officer"])
    with CaptureQueriesContext(connection) as captured:
        first = client.get(url("today"))
    # The rows come from a query limited to one page, never the officer's whole list (read before the next request
    # clears the log).
    listing = [q["sql"] for q in captured if '"followups_followup"."due_on"' in q["sql"] and "COUNT(" not in q["sql"]]
    assert len(listing) == 1 and "LIMIT 25" in listing[0], listing

    overdue = first.context["page_obj"]
    assert first.context["counts"]["overdue"] == 30 and overdue.paginator.num_pages == 2
    assert [row.pk for row in overdue] == [row.pk for row in late[:25]]  # oldest first
    assert "?list=overdue&amp;page=2" in first.content.decode()  # the next page keeps the list
    second = client.get(url("today"), {"list": "overdue", "page": 2})
    assert [row.pk for row in second.context["page_obj"]] == [row.pk for row in late[25:]]


# --- the record page ----------------------------------------------------------------------------------------------
def test_the_record_page_shows_what_to_prepare_the_filled_script_and_the_form(
    client, clock, staff, loan, followup, question_sets
):
    make_script(FollowUpKind.FIRST)
    client.force_login(staff["officer"])

    response = client.get(url("record", followup.pk))
    content = response.content.decode()

    assert response.status_code == 200
    assert loan.contract.number in content
    assert "Hello 李明, this is 张伟, your loan officer. Your loan of ¥120,000.00" in content
    assert "{borrower_name}" not in content
    assert 'name="q_funds_use"' in content and 'name="q_business_status"' in content
    assert f"{GUARANTOR} (Guarantor)" in content
    assert 'data-testid="no-warnings"' in content
    assert 'data-testid="questionnaire-form"' in content


def test_a_record_with_errors_is_shown_again_and_nothing_changes(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])
    before = snapshot(followup)

    response = client.post(
        url("record", followup.pk), form_data(summary="", **{answer_field("business_status"): "", "channel": "visit"})
    )
    content = response.content.decode()

    assert response.status_code == 400
    assert "This field is required." in content
    assert set(response.context["record_form"].errors) == {"summary", answer_field("business_status")}
    assert snapshot(followup) == before


def test_service_errors_land_on_the_form(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])
    before = snapshot(followup)

    response = client.post(url("record", followup.pk), form_data(channel="visit"))

    assert response.status_code == 400
    assert response.context["record_form"].errors["location"] == ["Say where the visit took place."]
    assert snapshot(followup) == before


def test_a_complete_record_is_submitted_for_review(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])

    response = client.post(url("record", followup.pk), form_data(), follow=True)
    content = response.content.decode()
    done = fresh(followup)

    assert done.status == FollowUp.Status.COMPLETED
    assert done.completed_by == staff["officer"]
    assert done.answers == {"funds_use": True, "business_status": "normal", "income_change": "same", "new_debts": False}
    assert "submitted for a risk officer" in content
    assert 'data-testid="record-readonly"' in content
    assert not RiskWarning.objects.exists()


def test_a_high_risk_record_opens_a_warning_shown_on_the_record(client, clock, staff, loan, followup, question_sets):
    client.force_login(staff["officer"])

    response = client.post(
        url("record", followup.pk),
        form_data(
            risk_level="high",
            risk_signals=["business_decline", "litigation"],
            next_steps="三日内上门核实",
            summary="借款人店铺停业，涉诉。",
        ),
        follow=True,
    )
    content = response.content.decode()

    warning = RiskWarning.objects.get(loan=loan)
    assert warning.level == "high"
    assert "a risk warning is open on the loan" in content
    assert 'data-testid="open-warnings"' in content
    assert "借款人店铺停业" in content
    assert "Business decline, Litigation" in content


def test_a_guarantor_is_chosen_from_the_loans_parties(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])

    client.post(url("record", followup.pk), form_data(subject="guarantor", subject_name=GUARANTOR))

    assert (fresh(followup).subject, fresh(followup).subject_name) == ("guarantor", GUARANTOR)


def test_an_attempt_is_logged_from_the_record_page(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])

    response = client.post(url("attempt", followup.pk), {"outcome": "busy", "note": "占线"}, follow=True)

    assert "Attempt logged" in response.content.decode()
    assert 'data-testid="attempt"' in response.content.decode()
    assert ContactAttempt.objects.get(followup=followup).note == "占线"


def test_a_visit_photo_is_added_and_downloaded_by_the_branch(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])

    client.post(url("photo_add", followup.pk), {"upload": SimpleUploadedFile("shop.png", PNG_BYTES), "caption": "门店"})
    photo = FollowUpPhoto.objects.get(followup=followup)
    download = client.get(url("photo_download", followup.pk, photo.pk))

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG_BYTES
    assert download["X-Content-Type-Options"] == "nosniff"
    client.force_login(staff["other_officer"])
    assert client.get(url("photo_download", followup.pk, photo.pk)).status_code == 404


def test_an_exe_is_refused_as_a_photo(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])
    program = SimpleUploadedFile("shop.png", b"MZ\x90\x00 this is a program", content_type="image/png")

    response = client.post(url("photo_add", followup.pk), {"upload": program})

    assert response.status_code == 400
    assert "Only PDF, JPEG" in response.content.decode()
    assert not FollowUpPhoto.objects.exists()


def test_a_photo_of_another_followup_is_404(client, clock, staff, loan, followup, question_sets):
    other = planned_followup(loan, kind=FollowUpKind.SECOND)
    photo = followup_photo_add(
        followup=other, by=staff["officer"], upload=SimpleUploadedFile("a.png", PNG_BYTES), caption=""
    )
    client.force_login(staff["officer"])

    assert client.get(url("photo_download", followup.pk, photo.pk)).status_code == 404


def test_the_questionnaire_is_sent_from_the_record(client, clock, staff, followup, question_sets):
    client.force_login(staff["officer"])

    response = client.post(url("questionnaire_send", followup.pk), follow=True)

    assert "The questionnaire is sent to the borrower" in response.content.decode()
    assert Questionnaire.objects.filter(followup=followup).exists()
    again = client.post(url("questionnaire_send", followup.pk), follow=True)
    assert "already sent" in again.content.decode()


def test_an_approved_record_is_read_only_and_takes_corrections(client, clock, staff, followup, question_sets):
    followup_complete(followup=followup, by=staff["officer"], **record())
    followup_review(followup=fresh(followup), by=staff["risk"], decision="approve", note="")
    client.force_login(staff["officer"])
    before = snapshot(followup)

    page = client.get(url("record", followup.pk)).content.decode()
    posted = client.post(url("record", followup.pk), form_data(summary="改写"), follow=True)
    amended = client.post(url("amend", followup.pk), {"text": "补充：借款人另有一处经营场所。"}, follow=True)

    assert 'data-testid="record-form"' not in page and 'data-testid="amend-form"' in page
    assert "can no longer be changed" in posted.content.decode()
    assert snapshot(followup) == before
    assert "补充：借款人另有一处经营场所。" in amended.content.decode()
    assert followup.amendments.count() == 1


def test_an_empty_correction_is_shown_again(client, clock, staff, followup, question_sets):
    followup_complete(followup=followup, by=staff["officer"], **record())
    followup_review(followup=fresh(followup), by=staff["risk"], decision="approve", note="")
    client.force_login(staff["officer"])

    response = client.post(url("amend", followup.pk), {"text": ""})

    assert response.status_code == 400
    assert followup.amendments.count() == 0


# --- the team view and reassignment -------------------------------------------------------------------------------
def test_the_team_view_counts_each_officers_followups_in_one_query(client, clock, staff, loan, question_sets):
    planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=1, due_on=DUE - timedelta(days=5))
    planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=2, due_on=DUE - timedelta(days=1))
    planned_followup(loan)  # today
    planned_followup(
        loan, kind=FollowUpKind.EXTRA, sequence=3, due_on=DUE + timedelta(days=2), officer=staff["officer2"]
    )
    client.force_login(staff["manager"])

    response = client.get(url("team"))
    counts = {officer.pk: officer for officer in response.context["officers"]}

    assert (counts[staff["officer"].pk].overdue, counts[staff["officer"].pk].due_today) == (2, 1)
    assert (counts[staff["officer2"].pk].next_7_days, counts[staff["officer2"].pk].overdue) == (1, 0)
    assert staff["other_officer"].pk not in counts
    assert response.context["page_obj"].paginator.count == 2
    assert "5 days late" in response.content.decode()
    with CaptureQueriesContext(connection) as captured:
        team_counts(staff["manager"], DUE)
    # One aggregate over the officers and their follow-ups, after the officer group's id (accounts.holders_of).
    assert [q["sql"].split(" FROM ")[1].split()[0] for q in captured] == ['"auth_group"', '"accounts_user"']


def test_a_manager_reassigns_a_late_followup(client, clock, staff, loan, question_sets):
    late = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=1, due_on=DUE - timedelta(days=5))
    client.force_login(staff["manager"])

    response = client.post(url("reassign", late.pk), {"officer": staff["officer2"].pk}, follow=True)

    assert fresh(late).officer == staff["officer2"]
    assert "now assigned to" in response.content.decode()


def test_a_followup_is_not_reassigned_to_another_branch(client, clock, staff, loan, question_sets):
    late = planned_followup(loan, kind=FollowUpKind.EXTRA, sequence=1, due_on=DUE - timedelta(days=5))
    client.force_login(staff["manager"])

    client.post(url("reassign", late.pk), {"officer": staff["other_officer"].pk})

    assert fresh(late).officer == staff["officer"]


def test_followup_reassign_rules(clock, staff, followup, question_sets):
    with pytest.raises(PermissionDenied):
        followup_reassign(followup=followup, by=staff["officer"], officer=staff["officer2"])
    with pytest.raises(PermissionDenied):
        followup_reassign(followup=followup, by=staff["other_manager"], officer=staff["other_officer"])
    with pytest.raises(ValidationError) as excinfo:
        followup_reassign(followup=followup, by=staff["manager"], officer=staff["other_officer"])
    assert "officer" in excinfo.value.message_dict
    with pytest.raises(ValidationError):
        followup_reassign(followup=followup, by=staff["manager"], officer=staff["risk"])
    assert fresh(followup).officer == staff["officer"]

    followup_reassign(followup=followup, by=staff["manager"], officer=staff["officer2"])
    assert fresh(followup).officer == staff["officer2"]

    moved = fresh(followup)
    followup_complete(followup=moved, by=staff["officer2"], **record())
    with pytest.raises(TransitionError):
        followup_reassign(followup=fresh(followup), by=staff["manager"], officer=staff["officer"])
    assert fresh(followup).officer == staff["officer2"]


def test_a_reviewer_records_the_verification_call(client, clock, staff, application_in_review, question_sets):
    call = application_contact_create(
        application=application_in_review, by=staff["reviewer"], kind=FollowUpKind.VERIFICATION_CALL
    )
    client.force_login(staff["reviewer"])

    page = client.get(url("record", call.pk)).content.decode()
    client.post(url("attempt", call.pk), {"outcome": "busy"})
    client.post(url("record", call.pk), form_data(funds_used_as_contracted=""))

    assert 'data-testid="record-form"' in page and application_in_review.number in page
    assert ContactAttempt.objects.filter(followup=call).count() == 1
    assert fresh(call).status == FollowUp.Status.COMPLETED


def test_a_risk_officer_cannot_log_an_attempt(client, clock, staff, followup, question_sets):
    client.force_login(staff["risk"])
    before = snapshot(followup)

    response = client.post(url("attempt", followup.pk), {"outcome": "busy"}, follow=True)

    assert "Your role does not allow this." in response.content.decode()
    assert snapshot(followup) == before
    assert not ContactAttempt.objects.exists()
