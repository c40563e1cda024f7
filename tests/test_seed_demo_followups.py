"""`manage.py seed_demo` fills the follow-up library (a question set for every kind, scripts for every category) and
leaves follow-ups in every state and risk warnings open, acknowledged and resolved, made through the services; a second
run adds nothing. Seeded once per module inside a rolled-back transaction (tests/seeding.py)."""

import pytest
from django.utils import timezone

from applications.models import ApplicationStatus
from core.dates import SHANGHAI, local_today
from followups.models import FollowUp, Question, QuestionSet, RiskWarning, ScriptTemplate
from followups.models.followups import FollowUpKind, FollowUpStatus
from followups.models.warnings import WarningAction, WarningStatus
from followups.selectors import script_for
from postloan.models import Loan, LoanStatus
from tests.seeding import module_transaction, row_counts, seed_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    with module_transaction(django_db_blocker, tmp_path_factory.mktemp("media")):
        yield seed_demo()


def test_every_followup_kind_has_one_active_question_set_with_bilingual_questions(seeded):
    active = QuestionSet.objects.filter(is_active=True)
    assert sorted(active.values_list("kind", flat=True)) == sorted(FollowUpKind.values)
    for question in Question.objects.all():
        assert question.text_zh and question.text_en, question.code
        if question.answer_type == Question.AnswerType.CHOICE:
            assert question.choices and all(choice["zh"] and choice["en"] for choice in question.choices)
    codes = set(active.get(kind=FollowUpKind.VERIFICATION_CALL).questions.values_list("code", flat=True))
    assert {"identity", "employer", "income", "purpose", "knows_of_application"} <= codes
    first = set(active.get(kind=FollowUpKind.FIRST).questions.values_list("code", flat=True))
    assert {"funds_use", "income_change", "new_debts", "guarantor_status", "collateral_status"} <= first


def test_the_script_library_covers_every_category_and_kind_and_fills_its_placeholders(seeded):
    scripts = ScriptTemplate.objects.filter(is_active=True)
    assert set(scripts.values_list("category", flat=True)) == set(ScriptTemplate.Category.values)
    followup_kinds = set(scripts.filter(category="followup").values_list("kind", flat=True))
    assert followup_kinds == set(FollowUpKind.values)
    assert all(script.body_zh and script.body_en and script.title_en for script in scripts)

    followup = FollowUp.objects.filter(loan__isnull=False, kind=FollowUpKind.FIRST).select_related("loan").first()
    for language in ("zh-hans", "en"):
        text = script_for(followup, language)
        assert followup.loan.borrower.name in text
        assert "{" not in text


def test_open_loans_have_their_plan_and_overdue_loans_their_call(seeded):
    for loan in Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE]):
        assert loan.followups.filter(kind=FollowUpKind.FIRST).exists(), loan.number
    for loan in Loan.objects.filter(status=LoanStatus.OVERDUE):
        assert loan.followups.filter(kind=FollowUpKind.OVERDUE_CALL, episode_start=loan.overdue_since).exists()


def test_followups_are_in_every_state_reviewed_by_someone_else(seeded):
    statuses = set(FollowUp.objects.values_list("status", flat=True))
    assert {FollowUpStatus.PLANNED, FollowUpStatus.COMPLETED, FollowUpStatus.RETURNED, FollowUpStatus.APPROVED} <= (
        statuses
    )
    assert FollowUp.objects.filter(status=FollowUpStatus.APPROVED).count() >= 3
    for followup in FollowUp.objects.filter(status__in=[FollowUpStatus.APPROVED, FollowUpStatus.RETURNED]):
        assert followup.reviewed_by_id != followup.completed_by_id
        assert followup.completed_at < followup.reviewed_at
        assert followup.completed_at.astimezone(SHANGHAI).date() < local_today()
        assert followup.reviewed_at < timezone.now()
        assert followup.answers and followup.question_set.kind == followup.kind
    assert FollowUp.objects.get(status=FollowUpStatus.RETURNED).review_note


def test_failed_attempts_and_three_of_them_raise_lost_contact(seeded):
    tried = FollowUp.objects.filter(status=FollowUpStatus.PLANNED, failed_attempts__gt=0)
    assert tried.filter(failed_attempts=1).exists()
    lost = tried.get(failed_attempts=3)
    assert lost.attempts.count() == 3 and not lost.attempts.filter(outside_hours=True).exists()
    assert lost.due_on > lost.attempts.last().attempted_at.astimezone(SHANGHAI).date()
    warning = RiskWarning.objects.get(followup=lost)
    assert warning.signals == ["lost_contact"] and warning.status == WarningStatus.OPEN


def test_warnings_are_open_acknowledged_and_resolved_with_an_extra_followup(seeded):
    assert set(RiskWarning.objects.values_list("status", flat=True)) == set(WarningStatus.values)
    high = RiskWarning.objects.filter(followup__risk_level="high").exclude(signals=["lost_contact"])
    assert high.filter(status=WarningStatus.OPEN).exists()
    assert high.filter(status=WarningStatus.ACKNOWLEDGED).exists()
    resolved = RiskWarning.objects.get(status=WarningStatus.RESOLVED)
    assert resolved.resolution and resolved.acknowledged_by_id == resolved.resolved_by_id
    for warning in RiskWarning.objects.all():
        # Nothing is dated in the future, whatever the hour of the run.
        assert warning.opened_at <= (warning.acknowledged_at or warning.opened_at) < timezone.now()
        assert warning.resolved_at is None or warning.acknowledged_at < warning.resolved_at < timezone.now()
    action = resolved.actions.get(kind=WarningAction.Kind.EXTRA_FOLLOWUP)
    extra = FollowUp.objects.get(pk=int(action.reference.split(":")[1]))
    assert extra.kind == FollowUpKind.EXTRA and extra.loan_id == resolved.loan_id
    assert extra.status == FollowUpStatus.PLANNED


def test_an_application_in_initial_review_has_its_verification_call(seeded):
    call = FollowUp.objects.select_related("application").get(kind=FollowUpKind.VERIFICATION_CALL)
    assert call.application.status == ApplicationStatus.INITIAL_REVIEW
    assert call.status == FollowUpStatus.COMPLETED and call.answers["knows_of_application"] is True


def test_a_second_run_adds_nothing(seeded):
    first = row_counts()

    output = seed_demo()

    assert row_counts() == first
    assert "followups: 0 new question sets, 0 new scripts, 0 follow-ups planned, 0 new records" in output
