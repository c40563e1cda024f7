"""The officers' morning digest and the escalation of late follow-ups: who gets what, once, and in a number of queries
that does not grow with the book."""

from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from followups import tasks
from followups.models import FollowUp
from followups.services.nudges import late_escalation_sweep, officer_digest_sweep
from notifications.models import OutboxMessage
from notifications.services import _render_message
from tests.postloan.factories import disbursed_loan, on

TODAY = date(2026, 1, 20)  # a Tuesday
SATURDAY = date(2026, 1, 24)


@pytest.fixture
def people(staff, make_user, branches):
    """The follow-up staff with email addresses, a second Beijing manager (reading English), Shanghai's manager and
    an officer without an address."""
    if "other_manager" not in staff:
        staff["other_manager"] = make_user("fn_manager_sh", Role.MANAGER, branch=branches["SH"])
    staff["manager2"] = make_user("fn_manager2", Role.MANAGER, branch=branches["BJ"])
    staff["no_email"] = make_user("fn_officer_noemail", Role.OFFICER, branch=branches["BJ"])
    for key, user in staff.items():
        user.email = "" if key == "no_email" else f"{user.username}@example.com"
        user.preferred_language = "en" if key == "manager2" else "zh-hans"
        user.save(update_fields=["email", "preferred_language"])
    return staff


@pytest.fixture
def loan(people, product):
    return disbursed_loan(people)


def followup(loan, officer, due_on: date, *, status: str = "planned", branch=None) -> FollowUp:
    """An extra follow-up of the loan for `officer` (extra ones may be many per loan)."""
    return FollowUp.objects.create(
        loan=loan,
        kind="extra",
        sequence=FollowUp.objects.filter(loan=loan, kind="extra").count() + 1,
        branch=branch or officer.branch,
        officer=officer,
        due_on=due_on,
        planned_on=due_on,
        status=status,
    )


def digests() -> dict[str, OutboxMessage]:
    return {m.to_address: m for m in OutboxMessage.objects.filter(template="followup_digest")}


# --- the morning digest -------------------------------------------------------------------------------------------
def test_each_officer_gets_one_digest_of_what_is_due_today_or_overdue(loan, people):
    officer, officer2 = people["officer"], people["officer2"]
    followup(loan, officer, TODAY - timedelta(days=2))
    followup(loan, officer, TODAY, status="returned")
    followup(loan, officer, TODAY + timedelta(days=1))  # not yet
    followup(loan, officer, TODAY - timedelta(days=1), status="completed")  # done
    followup(loan, officer2, TODAY)
    followup(loan, people["other_officer"], TODAY + timedelta(days=3))  # nothing today: no digest
    followup(loan, people["no_email"], TODAY)  # nobody to write to

    with on(TODAY, 8):
        assert officer_digest_sweep() == 2

    sent = digests()
    assert set(sent) == {officer.email, officer2.email}
    mine = sent[officer.email]
    assert mine.idempotency_key == f"followup-digest:{officer.pk}:2026-01-20"
    assert (mine.recipient, mine.audience, mine.channel) == (officer, "staff", "email")
    assert (mine.context["overdue_count"], mine.context["due_count"], mine.context["total"]) == (1, 1, 2)
    assert [item["days_late"] for item in mine.context["items"]] == [2, 0]
    subject, body = _render_message(mine)
    assert "2026年1月20日" in subject
    assert body.count(loan.number) == 2 and "李明" in body


def test_a_second_run_the_same_day_writes_nothing_and_the_next_day_writes_again(loan, people):
    followup(loan, people["officer"], TODAY)
    followup(loan, people["officer2"], TODAY - timedelta(days=5))

    assert officer_digest_sweep(today=TODAY) == 2
    assert officer_digest_sweep(today=TODAY) == 0
    assert OutboxMessage.objects.filter(template="followup_digest").count() == 2
    assert officer_digest_sweep(today=TODAY + timedelta(days=1)) == 2
    assert OutboxMessage.objects.filter(template="followup_digest").count() == 4


def test_no_digest_on_a_day_off_and_monday_catches_up(loan, people):
    followup(loan, people["officer"], SATURDAY)
    assert officer_digest_sweep(today=SATURDAY) == 0
    monday = SATURDAY + timedelta(days=2)
    assert officer_digest_sweep(today=monday) == 1
    assert digests()[people["officer"].email].context["overdue_count"] == 1


def test_the_digest_takes_the_same_queries_for_many_officers(loan, people, make_user, branches):
    def queries_for(officers: int, per_officer: int, day: date) -> int:
        FollowUp.objects.update(status="completed")  # only this round's officers have something due
        for index in range(officers):
            officer = make_user(f"fn_digest_{day:%d}_{index}", Role.OFFICER, branch=branches["BJ"])
            officer.email = f"{officer.username}@example.com"
            officer.save(update_fields=["email"])
            for offset in range(per_officer):
                followup(loan, officer, day - timedelta(days=offset))
        with CaptureQueriesContext(connection) as captured:
            assert officer_digest_sweep(today=day) == officers
        return len(captured)

    small = queries_for(2, 1, TODAY)
    large = queries_for(12, 4, TODAY + timedelta(days=1))
    assert small == large <= 5, (small, large)


# --- late follow-ups ----------------------------------------------------------------------------------------------
def test_follow_ups_more_than_three_days_late_go_to_the_branch_managers_once(loan, people):
    officer = people["officer"]
    late = followup(loan, officer, TODAY - timedelta(days=4))
    returned = followup(loan, officer, TODAY - timedelta(days=10), status="returned")
    followup(loan, officer, TODAY - timedelta(days=3))  # exactly three days: not yet
    followup(loan, officer, TODAY - timedelta(days=9), status="completed")
    shanghai = followup(loan, people["other_officer"], TODAY - timedelta(days=6))

    with on(TODAY, 8):
        assert late_escalation_sweep() == 3

    messages = OutboxMessage.objects.filter(template="followup_late")
    bj_managers = sorted([people["manager"].pk, people["manager2"].pk])
    assert sorted(messages.values_list("idempotency_key", flat=True)) == sorted(
        [f"followup-late:{late.pk}:{pk}" for pk in bj_managers]
        + [f"followup-late:{returned.pk}:{pk}" for pk in bj_managers]
        + [f"followup-late:{shanghai.pk}:{people['other_manager'].pk}"]
    )
    assert set(FollowUp.objects.exclude(escalated_at=None).values_list("pk", flat=True)) == {
        late.pk,
        returned.pk,
        shanghai.pk,
    }
    english = messages.get(recipient=people["manager2"], idempotency_key__startswith=f"followup-late:{late.pk}:")
    subject, body = _render_message(english)
    assert loan.number in subject and "4 days late" in body and str(officer) in body

    # a rerun writes nothing; the next day only the one that has become four days late goes
    assert late_escalation_sweep(today=TODAY) == 0
    assert late_escalation_sweep(today=TODAY + timedelta(days=1)) == 1
    assert late_escalation_sweep(today=TODAY + timedelta(days=2)) == 0
    assert messages.count() == 7


def test_a_branch_without_a_manager_to_tell_waits_until_there_is_one(loan, people):
    late = followup(loan, people["other_officer"], TODAY - timedelta(days=5))
    people["other_manager"].email = ""
    people["other_manager"].save(update_fields=["email"])

    assert late_escalation_sweep(today=TODAY) == 0
    assert FollowUp.objects.get(pk=late.pk).escalated_at is None

    people["other_manager"].email = "sh-manager@example.com"
    people["other_manager"].save(update_fields=["email"])
    assert late_escalation_sweep(today=TODAY + timedelta(days=1)) == 1
    assert OutboxMessage.objects.get(template="followup_late").to_address == "sh-manager@example.com"


# --- wiring -------------------------------------------------------------------------------------------------------
def test_the_tasks_run_the_sweeps_and_beat_runs_them_each_morning(loan, people):
    followup(loan, people["officer"], TODAY - timedelta(days=5))

    assert tasks.sweep_digest.delay("2026-01-20").get() == 1
    assert tasks.sweep_late_followups.delay("2026-01-20").get() == 1
    schedule = {spec["task"]: spec["crontab"] for spec in settings.PERIODIC_TASKS.values()}
    assert schedule["followups.tasks.sweep_digest"] == {"minute": "30", "hour": "8"}
    assert schedule["followups.tasks.sweep_late_followups"] == {"minute": "35", "hour": "8"}
