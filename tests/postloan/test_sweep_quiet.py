"""The daily sweep's quiet loans: active, nothing past due, normal and out of observation, most of the book on most
days. The sweep marks them swept through the business date with one UPDATE per range of ids, without reading them
chunk by chunk; everything else goes through the chunks as before.

The books come from `sweep_book.build_book`: loans 0–5 of every ten are quiet ("current"), 6 fell due yesterday.
"""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from postloan.models import ClassificationChange, Installment, Loan, LoanEvent, LoanStatus, PenaltyAccrual
from postloan.services import sweep as sweep_module
from postloan.services import sweep_daily
from postloan.signals import loan_became_overdue

from .factories import at, disbursed_loan, on
from .sweep_book import build_book, scenario

pytestmark = pytest.mark.django_db

BUSINESS_DATE = date(2026, 6, 1)
# The columns the sweep may change, but never on a quiet loan except penalty_accrued_through.
SUMMARY = ("status", "dpd", "bucket", "overdue_since", "classification", "next_due_date", "next_due_amount")


@pytest.fixture
def template(staff, product):
    """The loan the books copy; closed, so that the sweep sees only the book."""
    loan = disbursed_loan(staff, amount="100000.00")
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 1, 31))
    return Loan.objects.get(pk=loan.pk)


@pytest.fixture
def episodes():
    """Every loan_became_overdue the test's sweeps send, as (loan_id, overdue_since)."""
    sent = []

    def receiver(sender, loan_id, overdue_since, **kwargs):
        sent.append((loan_id, overdue_since))

    loan_became_overdue.connect(receiver, dispatch_uid="test_sweep_quiet_episodes")
    yield sent
    loan_became_overdue.disconnect(dispatch_uid="test_sweep_quiet_episodes")


def quiet_book(template: Loan, *, tens: int, start: int = 0) -> list[int]:
    """Six quiet loans out of each ten of the pattern, `tens` times over: a book with nothing but quiet loans."""
    ids = []
    for ten in range(start, start + tens):
        ids += build_book(template, count=6, business_date=BUSINESS_DATE, start=ten * 10)
    return ids


def summary(loan_ids: list[int]) -> dict[int, tuple]:
    return {row[0]: row[1:] for row in Loan.objects.filter(pk__in=loan_ids).values_list("pk", *SUMMARY)}


def test_a_quiet_loan_is_only_marked_swept_through_the_day(template):
    ids = quiet_book(template, tens=2)
    before = summary(ids)
    history_before = Loan.history.count()

    with on(BUSINESS_DATE, hour=0):
        result = sweep_daily(business_date=BUSINESS_DATE)

    assert (result.loans_examined, result.accruals_written, result.newly_overdue, result.classification_changes) == (
        12,
        0,
        0,
        0,
    )
    assert summary(ids) == before
    swept = Loan.objects.filter(pk__in=ids)
    assert set(swept.values_list("penalty_accrued_through", "updated_at")) == {(BUSINESS_DATE, at(BUSINESS_DATE, 0))}
    assert not PenaltyAccrual.objects.exists()
    assert not LoanEvent.objects.filter(loan_id__in=ids).exists()
    assert not ClassificationChange.objects.exists()
    assert Loan.history.count() == history_before  # status and class stay: no history row


def test_a_quiet_loan_is_marked_in_every_range_of_ids(template, monkeypatch):
    monkeypatch.setattr(sweep_module, "QUIET_RANGE", 5)
    ids = quiet_book(template, tens=3)

    result = sweep_daily(business_date=BUSINESS_DATE)

    assert set(Loan.objects.filter(pk__in=ids).values_list("penalty_accrued_through", flat=True)) == {BUSINESS_DATE}
    assert result.chunks == len(range(min(ids), max(ids) + 1, 5))  # one transaction per range, none for attention


def test_a_loan_due_yesterday_among_quiet_ones_is_made_overdue_once(
    template, episodes, django_capture_on_commit_callbacks
):
    ids = build_book(template, count=7, business_date=BUSINESS_DATE)  # loans 0–5 quiet, loan 6 due yesterday
    late = ids[6]
    assert scenario(6) == "new"

    with django_capture_on_commit_callbacks(execute=True):
        first = sweep_daily(business_date=BUSINESS_DATE)
        again = sweep_daily(business_date=BUSINESS_DATE)

    assert (first.newly_overdue, first.accruals_written, first.classification_changes) == (1, 1, 1)
    assert (again.newly_overdue, again.accruals_written, again.classification_changes) == (0, 0, 0)
    assert episodes == [(late, BUSINESS_DATE)]
    loan = Loan.objects.get(pk=late)
    assert (loan.status, loan.dpd, loan.classification, loan.penalty_accrued_through) == (
        "overdue",
        1,
        "special_mention",
        BUSINESS_DATE,
    )
    assert list(LoanEvent.objects.filter(kind="overdue").values_list("loan_id", flat=True)) == [late]
    assert list(PenaltyAccrual.objects.values_list("loan_id", "accrual_date")) == [(late, BUSINESS_DATE)]
    assert not LoanEvent.objects.filter(loan_id__in=ids[:6]).exists()


def test_a_loan_past_due_by_its_installments_is_not_quiet_whatever_its_summary_says(template):
    """The quiet condition reads the installments in force, not only the loan's next due date."""
    late = build_book(template, count=7, business_date=BUSINESS_DATE)[6]
    Loan.objects.filter(pk=late).update(next_due_date=BUSINESS_DATE + timedelta(days=30))

    result = sweep_daily(business_date=BUSINESS_DATE)

    assert result.newly_overdue == 1
    loan = Loan.objects.get(pk=late)
    assert (loan.status, loan.dpd, loan.next_due_date) == ("overdue", 1, BUSINESS_DATE - timedelta(days=1))


def test_a_loan_made_past_due_between_the_two_passes_is_still_swept(template, monkeypatch):
    """A reversal lands after the chunks have passed the loan as quiet and before its range's UPDATE, which then
    finds it past due (under the row lock, PostgreSQL reads it again) and leaves it: the last pass takes it."""
    ids = quiet_book(template, tens=1)
    reversed_id = ids[0]
    quiet_pass = sweep_module._sweep_quiet

    def reversal_then_quiet_pass(*args, **kwargs):
        first = Installment.objects.filter(loan_id=reversed_id).order_by("number").first()
        assert first.due_date < BUSINESS_DATE
        Installment.objects.filter(pk=first.pk).update(
            status="pending", principal_paid=0, interest_paid=0, paid_on=None
        )
        Loan.objects.filter(pk=reversed_id).update(next_due_date=first.due_date)
        return quiet_pass(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_sweep_quiet", reversal_then_quiet_pass)

    result = sweep_daily(business_date=BUSINESS_DATE)

    loan = Loan.objects.get(pk=reversed_id)
    assert (loan.status, loan.penalty_accrued_through) == ("overdue", BUSINESS_DATE)
    assert result.newly_overdue == 1
    assert set(Loan.objects.filter(pk__in=ids).values_list("penalty_accrued_through", flat=True)) == {BUSINESS_DATE}


def test_a_quiet_loan_swept_for_a_later_day_is_left_there(template):
    ids = quiet_book(template, tens=1)
    later = BUSINESS_DATE + timedelta(days=5)
    Loan.objects.filter(pk__in=ids).update(penalty_accrued_through=later)

    sweep_daily(business_date=BUSINESS_DATE)

    assert set(Loan.objects.filter(pk__in=ids).values_list("penalty_accrued_through", flat=True)) == {later}


def test_a_loan_past_due_on_its_schedule_in_force_is_not_quiet_though_its_first_version_is_paid(template):
    """The quiet condition reads the installments of the version in force (`Loan.current_version`)."""
    loan_id = quiet_book(template, tens=1)[0]
    loan = Loan.objects.get(pk=loan_id)
    old = Installment.objects.filter(loan=loan).order_by("number")
    # Version 2 owes the first installment again, due yesterday and unpaid; version 1's rows stay paid.
    version = loan.schedule_versions.create(version=2, reason="prepayment", created_by=template.officer)
    first = old.first()
    Installment.objects.create(
        loan=loan,
        version=version,
        number=1,
        due_date=BUSINESS_DATE - timedelta(days=1),
        principal_due=first.principal_due,
        interest_due=first.interest_due,
    )
    Loan.objects.filter(pk=loan_id).update(current_version=2)

    sweep_daily(business_date=BUSINESS_DATE)

    loan.refresh_from_db()
    assert (loan.status, loan.dpd) == ("overdue", 1)


def test_its_queries_do_not_grow_with_the_number_of_quiet_loans(template):
    quiet_book(template, tens=2)
    with CaptureQueriesContext(connection) as twelve:
        sweep_daily(business_date=BUSINESS_DATE, chunk_size=10)
    quiet_book(template, tens=10, start=2)
    with CaptureQueriesContext(connection) as seventy_two:
        result = sweep_daily(business_date=BUSINESS_DATE, chunk_size=10)

    # Small chunks: sweeping 60 more loans through them would cost 6 chunks more, whereas one UPDATE marks them all.
    assert (result.loans_examined, result.chunks) == (72, 1)
    assert len(twelve.captured_queries) == len(seventy_two.captured_queries)
