"""Risk warnings: which records open one, once; the acknowledgement deadline and its breach; the risk officer's
handling and the actions, each creating what it says through the services that own it."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone, translation

from accounts.roles import Role
from core.dates import SHANGHAI
from followups.models import ContactAttempt, FollowUp, RiskWarning
from followups.services.warnings import (
    acknowledge_due,
    is_ack_breached,
    warning_acknowledge,
    warning_escalate,
    warning_raise_for_followup,
    warning_raise_lost_contact,
    warning_request_classification,
    warning_request_extra_followup,
    warning_request_restructuring,
    warning_resolve,
    warnings_for_loan,
    warnings_queue,
)
from notifications.models import OutboxMessage
from notifications.services import _render_message
from postloan.models import ClassificationProposal, Loan, LoanEvent, Restructuring, TransitionError
from tests.conftest import require_service
from tests.postloan.factories import approved_application, disbursed_loan, on

TUESDAY = date(2026, 1, 20)
FRIDAY = date(2026, 1, 23)
MONDAY = date(2026, 1, 26)
SERIOUS = [
    "business_decline",
    "job_loss",
    "illness",
    "litigation",
    "guarantor_problem",
    "collateral_value_drop",
    "lost_contact",
    "fund_misuse",
]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def people(staff, make_user, branches):
    """The follow-up staff (tests/followups/conftest.py) with email addresses, plus whoever this module needs: a
    second Beijing risk officer and manager, a risk officer without an address, Shanghai's risk officer and manager,
    and a head-office manager. Only Beijing's risk officers with an address hear of Beijing's warnings."""
    needed = {
        "risk2": (Role.RISK_OFFICER, "BJ"),
        "risk_no_email": (Role.RISK_OFFICER, "BJ"),
        "manager2": (Role.MANAGER, "BJ"),
        "other_risk": (Role.RISK_OFFICER, "SH"),
        "other_manager": (Role.MANAGER, "SH"),
        "hq_manager": (Role.MANAGER, "HQ"),
    }
    for key, (role, branch) in needed.items():
        if key not in staff:
            staff[key] = make_user(f"fw_{key}", role, branch=branches[branch])
    for key, user in staff.items():
        user.email = "" if key == "risk_no_email" else f"{user.username}@example.com"
        user.preferred_language = "en" if key == "manager2" else "zh-hans"
        user.save(update_fields=["email", "preferred_language"])
    return staff


@pytest.fixture
def loan(people, product):
    return disbursed_loan(people)


def completed(loan: Loan, *, level: str = "low", signals=(), summary: str = "经营正常", **fields) -> FollowUp:
    """A record as the records service leaves it when the officer submits it (a quarterly one, numbered on, so that
    a test may complete several)."""
    return FollowUp.objects.create(
        loan=loan,
        kind="quarterly",
        sequence=FollowUp.objects.filter(loan=loan, kind="quarterly").count() + 1,
        branch=loan.branch,
        officer=loan.officer,
        due_on=fields.pop("due_on", date(2026, 2, 9)),
        planned_on=date(2026, 2, 9),
        status=fields.pop("status", "completed"),
        subject="borrower",
        channel="phone",
        risk_level=level,
        risk_signals=list(signals),
        summary=summary,
        completed_by=loan.officer,
        completed_at=timezone.now(),
        **fields,
    )


def emails(*users) -> list[str]:
    return sorted(user.email for user in users)


def outbox(template: str) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(template=template).order_by("to_address"))


def open_warning(loan: Loan, day: date = TUESDAY, hour: int = 10) -> RiskWarning:
    with on(day, hour):
        return warning_raise_for_followup(followup=completed(loan, level="high", summary="店铺停业，收入骤降"))


# --- raising ------------------------------------------------------------------------------------------------------
def test_it_opens_a_warning_for_a_high_risk_level_and_tells_the_branch_risk_officers(loan, people):
    with on(TUESDAY, 10):
        followup = completed(loan, level="high", summary="店铺停业，收入骤降")
        warning = warning_raise_for_followup(followup=followup)

    warning.refresh_from_db()
    assert (warning.loan_id, warning.followup_id, warning.branch_id) == (loan.pk, followup.pk, loan.branch_id)
    assert (warning.level, warning.signals, warning.summary, warning.status) == (
        "high",
        [],
        "店铺停业，收入骤降",
        "open",
    )
    assert warning.opened_at == at(TUESDAY, 10)
    assert warning.acknowledge_due_at == at(date(2026, 1, 21), 10)

    messages = outbox("followup_warning_opened")
    assert [m.to_address for m in messages] == emails(people["risk"], people["risk2"])
    assert {m.idempotency_key for m in messages} == {
        f"followup-warning:{warning.pk}:{people['risk'].pk}",
        f"followup-warning:{warning.pk}:{people['risk2'].pk}",
    }
    assert all(m.audience == "staff" and m.channel == "email" for m in messages)
    subject, body = _render_message(messages[0])
    assert loan.number in subject and loan.number in body
    assert "店铺停业，收入骤降" in body and "李明" in body


@pytest.mark.parametrize("signal", SERIOUS)
def test_it_opens_a_warning_for_each_serious_signal_even_at_a_low_level(loan, signal):
    with on(TUESDAY):
        warning = warning_raise_for_followup(followup=completed(loan, level="low", signals=[signal], summary=""))

    assert warning is not None
    assert (warning.level, warning.signals) == ("low", [signal])
    assert warning.summary  # the signals in words when the record has no summary
    assert len(outbox("followup_warning_opened")) == 2


@pytest.mark.parametrize("level", ["low", "medium"])
def test_it_opens_nothing_for_a_record_without_signals_below_high(loan, level):
    with on(TUESDAY):
        assert warning_raise_for_followup(followup=completed(loan, level=level)) is None

    assert not RiskWarning.objects.exists()
    assert not OutboxMessage.objects.filter(template="followup_warning_opened").exists()


def test_it_opens_nothing_for_a_contact_before_the_loan(people, product):
    with on(date(2026, 1, 5)):
        application = approved_application(people)
        followup = FollowUp.objects.create(
            application=application,
            kind="verification_call",
            branch=application.branch,
            officer=people["officer"],
            due_on=date(2026, 1, 6),
            planned_on=date(2026, 1, 6),
            status="completed",
            risk_level="high",
            risk_signals=["litigation"],
        )
        assert warning_raise_for_followup(followup=followup) is None
        assert warning_raise_lost_contact(followup=followup) is None
    assert not RiskWarning.objects.exists()


def test_completing_again_after_a_return_keeps_the_one_warning(loan):
    with on(TUESDAY):
        followup = completed(loan, level="medium", signals=["illness"])
        first = warning_raise_for_followup(followup=followup)
        # returned by the reviewer, corrected, submitted again: still one warning, and nobody is told twice
        FollowUp.objects.filter(pk=followup.pk).update(status="returned")
        FollowUp.objects.filter(pk=followup.pk).update(status="completed", risk_level="high", risk_signals=["job_loss"])
        followup.refresh_from_db()
        again = warning_raise_for_followup(followup=followup)

    assert again.pk == first.pk
    assert RiskWarning.objects.count() == 1
    assert len(outbox("followup_warning_opened")) == 2


def test_the_third_failed_attempt_opens_one_lost_contact_warning(loan, people):
    with on(TUESDAY, 9):
        followup = completed(loan, status="planned", level="", summary="")
        for minute, outcome in enumerate(["no_answer", "busy", "no_answer"]):
            ContactAttempt.objects.create(
                followup=followup, outcome=outcome, attempted_at=at(TUESDAY, 9, minute), by=people["officer"]
            )
        FollowUp.objects.filter(pk=followup.pk).update(failed_attempts=3)
        warning = warning_raise_lost_contact(followup=followup)
        again = warning_raise_lost_contact(followup=followup)
        # the record completed later with a high level belongs to the same follow-up: no second warning
        FollowUp.objects.filter(pk=followup.pk).update(status="completed", risk_level="high")
        followup.refresh_from_db()
        on_completion = warning_raise_for_followup(followup=followup)

    assert warning.pk == again.pk == on_completion.pk
    assert (warning.level, warning.signals) == ("high", ["lost_contact"])
    assert "3 contact attempts failed" in warning.summary and "No answer" in warning.summary
    assert RiskWarning.objects.count() == 1
    assert len(outbox("followup_warning_opened")) == 2


# --- the acknowledgement deadline ---------------------------------------------------------------------------------
def test_a_warning_opened_on_friday_evening_is_due_on_monday_at_the_same_time(loan):
    warning = open_warning(loan, FRIDAY, 17)

    assert warning.acknowledge_due_at == at(MONDAY, 17)
    assert acknowledge_due(at(date(2026, 1, 24), 11)) == at(MONDAY, 11)  # opened on Saturday


def test_the_deadline_skips_a_holiday(settings):
    settings.LOANTRACK_HOLIDAYS = ["2026-01-26"]
    assert acknowledge_due(at(FRIDAY, 17)) == at(date(2026, 1, 27), 17)
    settings.LOANTRACK_EXTRA_WORKDAYS = ["2026-01-24"]  # a make-up Saturday (调休) counts
    assert acknowledge_due(at(FRIDAY, 17)) == at(date(2026, 1, 24), 17)


def test_an_open_warning_past_its_deadline_is_flagged_breached_until_acknowledged(loan, people):
    warning = open_warning(loan, FRIDAY, 17)
    risk = people["risk"]

    just_before, just_after = at(MONDAY, 16, 59), at(MONDAY, 17, 1)
    assert [w.is_ack_breached for w in warnings_queue(user=risk, now=just_before)] == [False]
    assert [w.is_ack_breached for w in warnings_queue(user=risk, now=just_after)] == [True]
    assert not is_ack_breached(warning, now=just_before) and is_ack_breached(warning, now=just_after)
    with on(MONDAY, 18):
        assert [w.is_ack_breached for w in warnings_queue(user=risk)] == [True]
        warning_acknowledge(warning=warning, by=risk)
        assert [w.is_ack_breached for w in warnings_queue(user=risk)] == [False]
        assert [w.is_ack_breached for w in warnings_for_loan(loan)] == [False]


def test_the_queue_shows_the_branch_warnings_being_handled_oldest_first(loan, people):
    first = open_warning(loan, TUESDAY, 9)
    second = open_warning(loan, TUESDAY, 11)
    third = open_warning(loan, TUESDAY, 10)
    with on(TUESDAY, 12):
        warning_acknowledge(warning=second, by=people["risk"])
        warning_acknowledge(warning=third, by=people["risk"])
        warning_resolve(warning=third, by=people["risk"], resolution="借款人已复工")

    assert [w.pk for w in warnings_queue(user=people["risk"])] == [first.pk, second.pk]
    assert [w.pk for w in warnings_queue(user=people["hq_manager"])] == [first.pk, second.pk]  # head office sees all
    assert list(warnings_queue(user=people["other_risk"])) == []
    assert [w.pk for w in warnings_for_loan(loan)] == [second.pk, third.pk, first.pk]


# --- handling -----------------------------------------------------------------------------------------------------
def test_a_risk_officer_acknowledges_then_resolves(loan, people):
    warning = open_warning(loan)
    risk = people["risk"]
    with on(TUESDAY, 14):
        warning_acknowledge(warning=warning, by=risk, note="已联系客户经理")
        with pytest.raises(TransitionError):
            warning_acknowledge(warning=warning, by=people["risk2"])
    warning.refresh_from_db()
    assert (warning.status, warning.acknowledged_by, warning.acknowledged_at) == ("acknowledged", risk, at(TUESDAY, 14))
    assert list(warning.actions.values_list("kind", "note", "by")) == [("note", "已联系客户经理", risk.pk)]

    with on(TUESDAY, 15), pytest.raises(ValidationError) as error:
        warning_resolve(warning=warning, by=risk, resolution="  ")
    assert "resolution" in error.value.message_dict
    assert RiskWarning.objects.get(pk=warning.pk).status == "acknowledged"

    with on(date(2026, 1, 22), 9):
        warning_resolve(warning=warning, by=risk, resolution="担保人代偿，风险解除")
        with pytest.raises(TransitionError):
            warning_resolve(warning=warning, by=risk, resolution="again")
    warning.refresh_from_db()
    assert (warning.status, warning.resolved_by, warning.resolution) == ("resolved", risk, "担保人代偿，风险解除")
    assert warning.resolved_at == at(date(2026, 1, 22), 9)
    assert [h.status for h in warning.history.order_by("history_date", "history_id")] == [
        "open",
        "acknowledged",
        "resolved",
    ]


def test_an_open_warning_cannot_be_resolved_before_it_is_acknowledged(loan, people):
    warning = open_warning(loan)
    with pytest.raises(TransitionError):
        warning_resolve(warning=warning, by=people["risk"], resolution="无需处理")
    assert RiskWarning.objects.get(pk=warning.pk).status == "open"


@pytest.mark.parametrize("who", ["officer", "manager", "reviewer", "other_risk"])
def test_only_a_risk_officer_of_the_branch_handles_a_warning(loan, people, who):
    warning = open_warning(loan)
    by = people[who]
    with on(TUESDAY, 14):
        attempts = [
            lambda: warning_acknowledge(warning=warning, by=by),
            lambda: warning_request_extra_followup(warning=warning, by=by, due_on=date(2026, 1, 27)),
            lambda: warning_escalate(warning=warning, by=by, note="请关注"),
            lambda: warning_request_classification(
                warning=warning, by=by, proposed_class="special_mention", reason="经营恶化"
            ),
        ]
        for attempt in attempts:
            with pytest.raises(PermissionDenied):
                attempt()
    warning.refresh_from_db()
    assert warning.status == "open" and not warning.actions.exists()
    assert FollowUp.objects.filter(kind="extra").count() == 0
    assert not ClassificationProposal.objects.exists()


# --- actions ------------------------------------------------------------------------------------------------------
def test_an_extra_follow_up_is_planned_for_the_loan_officer_and_acknowledges_the_warning(loan, people):
    warning = open_warning(loan)
    risk = people["risk2"]
    with on(TUESDAY, 14):
        first = warning_request_extra_followup(warning=warning, by=risk, due_on=date(2026, 1, 22), note="上门核实经营")
        second = warning_request_extra_followup(warning=warning, by=risk, due_on=date(2026, 2, 5))

    extras = list(FollowUp.objects.filter(loan=loan, kind="extra").order_by("sequence"))
    assert [(f.sequence, f.due_on, f.officer, f.branch_id, f.status) for f in extras] == [
        (1, date(2026, 1, 22), people["officer"], loan.branch_id, "planned"),
        (2, date(2026, 2, 5), people["officer"], loan.branch_id, "planned"),
    ]
    assert (first.kind, first.note, first.reference, first.by) == (
        "extra_followup",
        "上门核实经营",
        f"followup:{extras[0].pk}",
        risk,
    )
    assert second.reference == f"followup:{extras[1].pk}"
    warning.refresh_from_db()
    assert (warning.status, warning.acknowledged_by, warning.acknowledged_at) == (
        "acknowledged",
        risk,
        at(TUESDAY, 14),
    )


def test_a_refused_action_changes_nothing_not_even_the_acknowledgement(loan, people):
    warning = open_warning(loan)
    with on(TUESDAY, 14), pytest.raises(ValidationError) as error:
        warning_request_extra_followup(warning=warning, by=people["risk"], due_on=date(2026, 1, 19))
    assert "due_on" in error.value.message_dict
    with on(TUESDAY, 14), pytest.raises(ValidationError) as error:
        # the loan is normal: a manual class must be worse
        warning_request_classification(warning=warning, by=people["risk"], proposed_class="normal", reason="x")
    assert "proposed_class" in error.value.message_dict

    warning.refresh_from_db()
    assert warning.status == "open" and warning.acknowledged_by is None
    assert not warning.actions.exists() and not FollowUp.objects.filter(kind="extra").exists()


def test_a_restructuring_request_goes_through_postloan(loan, people):
    warning = open_warning(loan)
    risk = people["risk"]
    with on(TUESDAY, 14):
        action = warning_request_restructuring(
            warning=warning, by=risk, reason="店铺停业三个月", extend_months=6, first_due_date=date(2026, 2, 10)
        )

    restructuring = Restructuring.objects.get(loan=loan)
    assert (restructuring.status, restructuring.requested_by, restructuring.extend_months) == ("requested", risk, 6)
    assert restructuring.reason == "店铺停业三个月"
    assert restructuring.source_note == f"Risk warning {warning.pk}"
    assert (action.kind, action.reference, action.note) == (
        "restructuring",
        f"restructuring:{restructuring.pk}",
        "店铺停业三个月",
    )
    assert LoanEvent.objects.filter(loan=loan, data__event="restructuring_requested").count() == 1
    assert RiskWarning.objects.get(pk=warning.pk).status == "acknowledged"

    # postloan's own refusal (one open request per loan) passes through and records nothing
    with on(TUESDAY, 15), pytest.raises(TransitionError):
        warning_request_restructuring(
            warning=warning, by=risk, reason="再次申请", extend_months=3, first_due_date=date(2026, 2, 10)
        )
    assert Restructuring.objects.filter(loan=loan).count() == 1
    assert warning.actions.count() == 1


def test_a_classification_change_request_is_a_postloan_proposal(loan, people):
    warning = open_warning(loan)
    risk = people["risk"]
    with on(TUESDAY, 14):
        action = warning_request_classification(
            warning=warning, by=risk, proposed_class="substandard", reason="涉诉，经营停滞"
        )

    proposal = ClassificationProposal.objects.get(loan=loan)
    assert (proposal.proposed_class, proposal.proposed_by, proposal.reason, proposal.status) == (
        "substandard",
        risk,
        "涉诉，经营停滞",
        "proposed",
    )
    assert (action.kind, action.reference) == ("classification", f"classification:{proposal.pk}")
    assert Loan.objects.get(pk=loan.pk).classification == "normal"  # a manager decides


def test_escalation_emails_the_branch_managers(loan, people):
    warning = open_warning(loan)
    with on(TUESDAY, 14):
        action = warning_escalate(warning=warning, by=people["risk"], note="金额较大，请经理决定是否提前收回")

    messages = outbox("followup_warning_escalated")
    assert [m.to_address for m in messages] == emails(people["manager"], people["manager2"])
    assert {m.idempotency_key for m in messages} == {
        f"followup-warning-escalated:{action.pk}:{people['manager'].pk}",
        f"followup-warning-escalated:{action.pk}:{people['manager2'].pk}",
    }
    english = next(m for m in messages if m.language == "en")
    subject, body = _render_message(english)
    assert loan.number in subject
    assert "金额较大，请经理决定是否提前收回" in body and str(people["risk"]) in body
    assert (action.kind, action.note) == ("escalation", "金额较大，请经理决定是否提前收回")
    assert RiskWarning.objects.get(pk=warning.pk).status == "acknowledged"


def test_escalation_needs_a_note_and_a_manager_to_tell(loan, people):
    warning = open_warning(loan)
    with pytest.raises(ValidationError):
        warning_escalate(warning=warning, by=people["risk"], note="")
    type(people["manager"]).objects.filter(groups__name=Role.MANAGER, branch=loan.branch).update(email="")
    with pytest.raises(TransitionError):
        warning_escalate(warning=warning, by=people["risk"], note="请关注")
    assert RiskWarning.objects.get(pk=warning.pk).status == "open"
    assert not OutboxMessage.objects.filter(template="followup_warning_escalated").exists()


def test_no_action_is_taken_on_a_resolved_warning(loan, people):
    warning = open_warning(loan)
    with on(TUESDAY, 14):
        warning_acknowledge(warning=warning, by=people["risk"])
        warning_resolve(warning=warning, by=people["risk"], resolution="已处理")
        with pytest.raises(TransitionError):
            warning_request_extra_followup(warning=warning, by=people["risk"], due_on=TUESDAY + timedelta(days=2))
        with pytest.raises(TransitionError):
            warning_escalate(warning=warning, by=people["risk"], note="请关注")
    assert not warning.actions.exclude(kind="note").exists()
    assert not FollowUp.objects.filter(kind="extra").exists()


# --- at the same time (PostgreSQL) --------------------------------------------------------------------------------
def race(task, workers: int = 8) -> list:
    """Run `task` on `workers` threads, each with its own connection, starting together; results or exceptions."""
    barrier = threading.Barrier(workers)

    def run(_index: int):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                return task()
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


@pytest.mark.django_db(transaction=True)
def test_simultaneous_raising_and_acknowledging_happen_once(people, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = disbursed_loan(people)
    with on(TUESDAY, 10):
        followup = completed(loan, level="high", signals=["litigation"])
        raised = race(lambda: warning_raise_for_followup(followup=FollowUp.objects.get(pk=followup.pk)))
    assert not [result for result in raised if isinstance(result, Exception)]
    assert len({warning.pk for warning in raised}) == 1
    assert RiskWarning.objects.count() == 1
    assert len(outbox("followup_warning_opened")) == 2  # told once, each

    warning = RiskWarning.objects.get()
    with on(TUESDAY, 11):
        acknowledged = race(
            lambda: warning_acknowledge(warning=RiskWarning.objects.get(pk=warning.pk), by=people["risk"])
        )
    assert sum(isinstance(result, RiskWarning) for result in acknowledged) == 1
    assert all(isinstance(result, RiskWarning | TransitionError) for result in acknowledged)
    assert warning.history.filter(status="acknowledged").count() == 1
