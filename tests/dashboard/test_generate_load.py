"""The load generator (issue 9): `manage.py generate_load` builds a book that looks like a real lender's and that the
pages and the daily sweeps work on as on real data.

One book of 300 loans is generated for the module, committed, the way the command runs (COPY from a background
thread, indexes built and foreign keys checked after the load), with the clock stopped at a fixed moment; each test
reads it in its own transaction. The determinism test generates it a second time inside its transaction (the
in-transaction path: COPY on the test's connection, foreign keys checked row by row) and compares.
"""

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import CharField, Count, F, Max, Q, Sum, UniqueConstraint
from django.urls import reverse

from accounts.roles import Role
from applications.models import Application, ApplicationEvent, ApplicationStatus, Borrower, Review
from core.dates import SHANGHAI
from core.masking import mask_identity_number
from core.money import round_money
from core.schedules import ScheduleMethod, build_schedule
from dashboard.loadgen import generate
from dashboard.loadgen.ledger import daily_penalty
from dashboard.loadgen.shape import PENALTY_HISTORY_DAYS, mean_installments
from followups.models import FollowUp, FollowUpStatus, Inquiry, InquiryStatus, RiskWarning
from followups.planning import followups_sweep_missing
from followups.services.nudges import late_escalation_sweep
from notifications.models import OutboxMessage
from postloan.models import (
    Allocation,
    Bucket,
    Classification,
    ClassificationChange,
    Contract,
    Installment,
    Loan,
    LoanEvent,
    LoanMonthEnd,
    LoanStatus,
    PenaltyAccrual,
    Repayment,
    bucket_for_dpd,
)
from postloan.reminders import reminders_sweep
from postloan.services.classification import classification_floor
from postloan.services.common import SUMMARY_FIELDS, loan_refresh_summary
from postloan.services.sweep import sweep_daily

# A Monday afternoon in Shanghai: the book is generated and read with the clock stopped here.
NOW = datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI)
TODAY = NOW.date()
LOANS = 300
SEED = 42
SWEPT = (
    "status",
    "dpd",
    "bucket",
    "overdue_since",
    "next_due_date",
    "next_due_amount",
    "past_due_amount",
    "classification",
    "penalty_accrued_through",
    "outstanding_principal",
)
# Generated, but not by this module's tables: cleaned up with them.
OTHER_TABLES = (
    "core_documentsequence",
    "applications_product",
    "applications_historicalproduct",
    "accounts_branch",
    "accounts_historicalbranch",
)


def book_checksum() -> dict[str, str]:
    """A digest per table of its key columns, by natural keys (ids and encrypted tokens, which differ from run to run,
    are left out)."""
    parts = [
        Borrower.objects.order_by("identity_hash").values_list(
            "identity_hash", "identity_masked", "name", "mobile", "email", "kind", "monthly_income", "created_at"
        ),
        Application.objects.order_by("number").values_list(
            "number", "borrower__identity_hash", "status", "amount", "approved_amount", "status_changed_at"
        ),
        ApplicationEvent.objects.order_by("application__number", "created_at", "to_status").values_list(
            "application__number", "from_status", "to_status", "actor__username", "note", "data", "created_at"
        ),
        Review.objects.order_by("application__number", "created_at").values_list(
            "application__number", "stage", "decision", "reviewer__username", "rejection_codes"
        ),
        Loan.objects.order_by("number").values_list(
            "number", "borrower__identity_hash", "officer__username", "principal", "annual_rate", "method", *SWEPT
        ),
        Installment.objects.order_by("loan__number", "version__version", "number").values_list(
            "loan__number",
            "number",
            "due_date",
            "principal_due",
            "interest_due",
            "penalty_accrued",
            "principal_paid",
            "interest_paid",
            "penalty_paid",
            "status",
            "paid_on",
        ),
        Repayment.objects.order_by("loan__number", "paid_on", "posted_at", "amount").values_list(
            "loan__number", "amount", "paid_on", "channel", "posted_at"
        ),
        PenaltyAccrual.objects.order_by("loan__number", "installment__number", "accrual_date").values_list(
            "loan__number", "accrual_date", "overdue_principal", "amount"
        ),
        LoanEvent.objects.order_by("loan__number", "created_at", "kind").values_list(
            "loan__number", "kind", "note", "created_at"
        ),
        FollowUp.objects.order_by("loan__number", "kind", "sequence").values_list(
            "loan__number", "kind", "sequence", "due_on", "status", "risk_level", "completed_at", "escalated_at"
        ),
        RiskWarning.objects.order_by("loan__number", "opened_at").values_list("loan__number", "status", "level"),
        Inquiry.objects.order_by("number").values_list("number", "category", "status", "due_at", "answered_at"),
        OutboxMessage.objects.order_by("to_address", "created_at", "channel", "body").values_list(
            "to_address", "channel", "status", "subject", "body", "sent_at"
        ),
        LoanMonthEnd.objects.order_by("loan__number", "month_end").values_list(
            "loan__number", "month_end", "status", "dpd", "bucket", "classification", "outstanding_principal"
        ),
    ]
    digests = {}
    for rows in parts:
        digest = hashlib.sha256()
        for row in rows:
            digest.update(repr(row).encode())
        digests[rows.model._meta.db_table] = digest.hexdigest()
    return digests


def _wipe(report) -> None:
    tables = ", ".join([*(name for name, rows, _seconds in report.tables if rows), *OTHER_TABLES])
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


@pytest.fixture(scope="module")
def book(django_db_setup, django_db_blocker):
    """The module's book, committed; removed again afterwards so that other tests find an empty database."""
    with django_db_blocker.unblock(), time_machine.travel(NOW, tick=False):
        report = generate(loans=LOANS, seed=SEED, batch=120)
        checksum = book_checksum()
        # The reminders were sent when the quiet hours ended (tests/dashboard/conftest.py turns them off per test).
        report.quiet_hours = (settings.NOTIFY_QUIET_START_HOUR, settings.NOTIFY_QUIET_END_HOUR)
    yield report, checksum
    with django_db_blocker.unblock():
        _wipe(report)


@pytest.fixture(autouse=True)
def _stopped_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def loans(book, db):
    return list(Loan.objects.select_related("contract").order_by("pk"))


# --- refusals -------------------------------------------------------------------------------------------------------
def test_it_refuses_a_database_that_already_holds_a_book(book, db):
    with pytest.raises(CommandError, match="already holds borrowers, applications or loans"):
        call_command("generate_load", "--loans", "10")
    assert Loan.objects.count() == LOANS


def test_it_refuses_sqlite_with_a_clear_message(book, db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="writes with PostgreSQL's COPY; this database is sqlite"):
        call_command("generate_load", "--loans", "10")


# --- the same seed, the same book -----------------------------------------------------------------------------------
def test_it_builds_the_same_book_from_the_same_seed(book, db, settings):
    report, first = book
    settings.NOTIFY_QUIET_START_HOUR, settings.NOTIFY_QUIET_END_HOUR = report.quiet_hours
    names = [name for name, rows, _seconds in report.tables if rows and not name.startswith("accounts_")]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(names)}, core_documentsequence CASCADE")
    assert Loan.objects.count() == 0

    again = generate(loans=LOANS, seed=SEED, batch=1000)

    assert again.created_users == 0  # the staff of the first run were reused
    assert book_checksum() == first
    assert {name: rows for name, rows, _s in again.tables if not name.startswith("accounts_")} == {
        name: rows for name, rows, _s in report.tables if not name.startswith("accounts_")
    }


def test_another_seed_gives_another_book(book, db):
    report, first = book
    names = [name for name, rows, _seconds in report.tables if rows and not name.startswith("accounts_")]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(names)}, core_documentsequence CASCADE")

    generate(loans=LOANS, seed=SEED + 1, batch=1000)

    assert Loan.objects.count() == LOANS
    differing = {name for name, digest in book_checksum().items() if digest != first[name]}
    assert {"applications_borrower", "postloan_loan", "postloan_installment"} <= differing


# --- what the book holds --------------------------------------------------------------------------------------------
def test_the_report_counts_the_rows_written(book, db):
    report, _checksum = book
    written = {name: rows for name, rows, _seconds in report.tables}
    assert written["postloan_loan"] == LOANS == Loan.objects.count()
    assert written["postloan_installment"] == Installment.objects.count()
    assert written["postloan_repayment"] == Repayment.objects.count()
    assert report.total_rows == sum(written.values())
    assert report.batches >= 3  # 300 loans in batches of 120


def test_the_lists_counts_per_status_agree_with_the_book(book, db):
    """The counts the loan and application lists read (core.status_counts) match the book loaded beneath them."""
    from django.db.models import Count, Sum

    from applications.models import ApplicationStatusCount
    from postloan.models import LoanStatusCount

    for model, kept in ((Loan, LoanStatusCount), (Application, ApplicationStatusCount)):
        group = ("branch_id", "officer_id", "status")
        live = {tuple(row[:3]): row[3] for row in model.objects.values_list(*group).annotate(n=Count("*"))}
        totals = kept.objects.values_list(*group).annotate(total=Sum("n")).filter(total__gt=0)
        assert {tuple(row[:3]): row[3] for row in totals} == live
        assert len(live) > 20  # every branch's officers, in several statuses


def test_the_indexes_dropped_for_the_load_are_all_back(book, db):
    report, _checksum = book
    assert report.index_seconds > 0  # the module's book was loaded the command's way, indexes deferred
    models = {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}
    with connection.cursor() as cursor:
        for name, _rows, _seconds in report.tables:
            model = models[name]
            found = connection.introspection.get_constraints(cursor, name)
            for index in model._meta.indexes:
                assert index.name in found, (name, index.name)
            for constraint in model._meta.constraints:
                if isinstance(constraint, UniqueConstraint):
                    assert constraint.name in found, (name, constraint.name)
            on_column = Counter(
                tuple(entry["columns"]) for entry in found.values() if entry["index"] or entry["unique"]
            )
            for model_field in model._meta.concrete_fields:
                # A foreign key's own index unless the model declines it (Loan.product: db_index=False).
                if model_field.db_index or model_field.unique:
                    assert on_column[(model_field.column,)] >= 1, (name, model_field.column)
                if isinstance(model_field, CharField) and (model_field.db_index or model_field.unique):
                    # and the varchar_pattern_ops index Django adds for LIKE lookups
                    assert on_column[(model_field.column,)] >= 2, (name, model_field.column)


def test_every_application_status_is_present_with_its_timeline(book, db):
    statuses = dict(Application.objects.values_list("status").annotate(count=Count("pk")))
    assert set(statuses) == set(ApplicationStatus.values)
    assert statuses[ApplicationStatus.DISBURSED] == LOANS
    # Every application starts as a draft and its last event leads to its status.
    for application in Application.objects.prefetch_related("events"):
        events = sorted(application.events.all(), key=lambda event: (event.created_at, event.pk))
        assert events[0].to_status == ApplicationStatus.DRAFT and events[0].data == {"created": True}
        assert events[-1].to_status == application.status
        assert application.status_changed_at == events[-1].created_at
    # Approvals still open have not expired (the expiry sweep would take them).
    assert not Application.objects.filter(status=ApplicationStatus.APPROVED, expires_at__lt=NOW).exists()
    assert Review.objects.filter(decision=Review.Decision.REJECT).exclude(rejection_codes=[]).exists()


def test_every_repayment_method_and_a_realistic_term_mix(loans):
    methods = {loan.method for loan in loans}
    assert methods == set(ScheduleMethod.values)
    terms = [loan.term_months for loan in loans]
    assert min(terms) >= 3 and max(terms) <= 60
    installments = Installment.objects.count() / LOANS
    assert 10 <= installments <= 14, installments
    assert 11 <= mean_installments() <= 13


def test_every_bucket_and_class_is_present(loans):
    buckets = {loan.bucket for loan in loans if loan.status == LoanStatus.OVERDUE}
    assert buckets == set(Bucket.values) - {Bucket.CURRENT}
    assert {loan.classification for loan in loans} == set(Classification.values)
    statuses = {loan.status for loan in loans}
    assert statuses == {LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.PAID_OFF}


def test_follow_ups_warnings_inquiries_and_reminders_are_there(book, db):
    followups = set(FollowUp.objects.values_list("status", flat=True))
    assert followups == set(FollowUpStatus.values)
    assert set(RiskWarning.objects.values_list("status", flat=True)) == {"open", "acknowledged", "resolved"}
    answered = Inquiry.objects.filter(status=InquiryStatus.ANSWERED)
    assert answered.exists()
    assert not answered.filter(replies__isnull=True).exists()
    assert OutboxMessage.objects.filter(template="repayment_reminder", status=OutboxMessage.Status.SENT).exists()
    sent = OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT, channel="sms").first()
    assert sent.body.startswith(settings.SMS_SIGNATURE) and sent.context["number"] in sent.body


# --- invariants of every loan ---------------------------------------------------------------------------------------
def test_every_loan_agrees_with_its_installments_and_repayments(loans):
    installments = {}
    for item in Installment.objects.select_related("version").order_by("loan_id", "version__version", "number"):
        installments.setdefault(item.loan_id, []).append(item)
    allocated = {
        row["installment_id"]: row
        for row in Allocation.objects.values("installment_id").annotate(
            principal=Sum("principal"), interest=Sum("interest"), penalty=Sum("penalty")
        )
    }
    accrued = dict(
        PenaltyAccrual.objects.values("installment_id")
        .annotate(total=Sum("amount"))
        .values_list("installment_id", "total")
    )
    last_paid = dict(Repayment.objects.values("loan_id").annotate(last=Max("paid_on")).values_list("loan_id", "last"))
    for loan in loans:
        every = installments[loan.pk]
        first = [item for item in every if item.version.version == 1]
        items = [item for item in every if item.version.version == loan.current_version]
        assert len(first) == (1 if loan.method == ScheduleMethod.BULLET else loan.contract.term_months)
        assert sum(item.principal_due for item in first) == loan.principal
        assert first[-1].due_date == loan.contract.maturity_date
        # All principal repaid, on whichever version, is what the loan no longer owes.
        assert loan.outstanding_principal == loan.principal - sum(item.principal_paid for item in every)
        assert loan.outstanding_principal == sum(item.principal_due - item.principal_paid for item in items)
        assert loan.maturity_date == items[-1].due_date
        assert loan.bucket == bucket_for_dpd(loan.dpd)
        for item in every:
            paid = allocated.get(item.pk, {"principal": 0, "interest": 0, "penalty": 0})
            assert (item.principal_paid, item.interest_paid, item.penalty_paid) == (
                paid["principal"],
                paid["interest"],
                paid["penalty"],
            )
            assert item.penalty_accrued == accrued.get(item.pk, 0)
            assert item.status == ("paid" if item.outstanding == 0 else "partial" if item.total_paid else "pending")
            assert (item.paid_on is not None) == (item.status == "paid")
        unpaid = [item for item in items if item.outstanding > 0]
        if loan.status == LoanStatus.PAID_OFF:
            assert not unpaid and loan.outstanding_principal == 0
            assert loan.paid_off_on == last_paid[loan.pk] and loan.next_due_date is None and loan.dpd == 0
            continue
        oldest = unpaid[0]
        assert (loan.next_due_date, loan.next_due_amount) == (oldest.due_date, oldest.outstanding)
        assert loan.penalty_accrued_through == TODAY
        floor = classification_floor(dpd=loan.dpd, restructured=False, observation_until=None, on=TODAY)
        assert loan.classification == floor.classification
        if loan.status == LoanStatus.OVERDUE:
            assert loan.dpd == (TODAY - oldest.due_date).days > 0
            assert loan.overdue_since == oldest.due_date + timedelta(days=1)
        else:
            assert oldest.due_date >= TODAY and loan.dpd == 0 and loan.overdue_since is None


def test_the_loan_summary_is_what_loan_refresh_summary_computes(loans):
    for loan in loans:
        before = [getattr(loan, name) for name in SUMMARY_FIELDS if name != "updated_at"]
        events = loan.events.count()
        loan_refresh_summary(loan, today=TODAY)
        assert [getattr(loan, name) for name in SUMMARY_FIELDS if name != "updated_at"] == before, loan.number
        assert loan.events.count() == events


def test_some_borrowers_prepaid_principal_and_shortened_their_term(book, db):
    prepaid = Loan.objects.filter(current_version=2).select_related("contract")
    assert prepaid.exists()
    for loan in prepaid:
        assert loan.maturity_date <= loan.contract.maturity_date
        assert loan.term_months <= loan.contract.term_months
        version = loan.schedule_versions.get(version=2)
        assert version.reason == "prepayment" and version.note
        note = loan.events.get(kind=LoanEvent.Kind.NOTE, data__event="prepayment")
        repayment = Repayment.objects.get(pk=note.data["repayment"])
        lines = list(repayment.allocations.select_related("installment").order_by("installment__number"))
        assert len(lines) > 1  # the installment due, then the later principal prepaid
        prepaid_principal = Decimal(note.data["principal"])
        assert prepaid_principal == sum(line.principal for line in lines[1:])
        # Version 2 spreads what was still owed after the prepayment over the remaining dates.
        later = loan.installments.filter(version__version=1, number__gt=lines[0].installment.number)
        owed_before = later.aggregate(total=Sum("principal_due"))["total"]
        owed_after = version.installments.aggregate(total=Sum("principal_due"))["total"]
        assert owed_after == owed_before - prepaid_principal
    # Re-dated follow-ups: the plan of the new maturity cancelled the planned ones it no longer has.
    assert FollowUp.objects.filter(status=FollowUpStatus.CANCELLED, loan__current_version=2).exists()
    assert not FollowUp.objects.filter(status=FollowUpStatus.CANCELLED, loan__current_version=1).exists()


def test_each_repayment_is_allocated_in_full_penalty_then_interest_then_principal(book, db):
    for repayment in Repayment.objects.annotate(
        allocated=Sum(F("allocations__principal") + F("allocations__interest") + F("allocations__penalty"))
    ):
        assert repayment.allocated == repayment.amount
    accruals: dict[int, list] = {}
    for installment_id, day, amount in PenaltyAccrual.objects.values_list("installment_id", "accrual_date", "amount"):
        accruals.setdefault(installment_id, []).append((day, amount))
    paid: dict[int, list[Decimal]] = {}
    rows = (
        Allocation.objects.select_related("installment", "repayment")
        .annotate(lines=Count("repayment__allocations"))
        .order_by("repayment__paid_on", "pk")
    )
    for row in rows:
        if row.lines > 1 and not (row.interest or row.penalty):
            continue  # principal a prepayment repaid early: no interest is owed on it yet
        penalty, interest = paid.setdefault(row.installment_id, [Decimal(0), Decimal(0)])
        penalty += row.penalty
        interest += row.interest
        paid[row.installment_id] = [penalty, interest]
        owed_penalty = sum(
            amount for day, amount in accruals.get(row.installment_id, []) if day <= row.repayment.paid_on
        )
        if row.interest or row.principal:
            assert penalty == owed_penalty, row  # penalty first
        if row.principal:
            assert interest == row.installment.interest_due, row  # then interest, then principal


def test_schedules_are_those_of_build_schedule(loans):
    for loan in loans[:80]:
        expected = build_schedule(
            principal=loan.principal,
            annual_rate=loan.annual_rate,
            term_months=loan.contract.term_months,
            method=loan.method,
            first_due_date=loan.contract.first_due_date,
        )
        got = list(
            loan.installments.filter(version__version=1)
            .order_by("number")
            .values_list("due_date", "principal_due", "interest_due")
        )
        assert got == [(row.due_date, row.principal, row.interest) for row in expected]


def test_penalty_is_the_sweeps_daily_amount(book, db):
    accruals = PenaltyAccrual.objects.select_related("loan")
    assert accruals.exists()
    for accrual in accruals[:500]:
        expected = round_money(accrual.overdue_principal * accrual.loan.penalty_rate / 100 / Decimal(360))
        assert accrual.amount == expected > 0
    days = accruals.values("installment_id").annotate(days=Count("pk")).aggregate(most=Max("days"))["most"]
    assert days == PENALTY_HISTORY_DAYS  # long-overdue installments keep their first 30 days
    for principal in (1, 99, 12_345, 200_000_00, 3_333_333):
        for rate in (Decimal("6.5250"), Decimal("18.0000"), Decimal("13.3333")):
            assert Decimal(daily_penalty(principal, int(rate * 10_000))) / 100 == round_money(
                Decimal(principal) / 100 * rate / 100 / Decimal(360)
            )


def test_identity_numbers_are_stored_as_the_borrower_model_stores_them(book, db):
    for borrower in Borrower.objects.all()[:50]:
        # The EncryptedTextField decrypts on read: a token the field cannot open would raise here.
        assert borrower.identity_masked == mask_identity_number(borrower.identity_number)
        assert Borrower.objects.filter(identity_hash=borrower.identity_hash).count() == 1
    assert Borrower.objects.values("mobile").distinct().count() == Borrower.objects.count()


# --- the sweeps on the generation day -------------------------------------------------------------------------------
def test_the_daily_sweeps_find_nothing_to_do_on_the_generation_day(book, db):
    before = list(Loan.objects.order_by("pk").values_list(*SWEPT))
    counts = (PenaltyAccrual.objects.count(), ClassificationChange.objects.count(), LoanMonthEnd.objects.count())

    result = sweep_daily(business_date=TODAY)

    assert (result.loans_examined, result.accruals_written, result.newly_overdue, result.cured) == (
        Loan.objects.filter(status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE]).count(),
        0,
        0,
        0,
    )
    assert (result.classification_changes, result.expired_applications) == (0, 0)
    assert list(Loan.objects.order_by("pk").values_list(*SWEPT)) == before
    assert (
        PenaltyAccrual.objects.count(),
        ClassificationChange.objects.count(),
        LoanMonthEnd.objects.count(),
    ) == counts
    assert followups_sweep_missing(today=TODAY) == 0  # every open loan has its plan, every episode its call
    assert reminders_sweep(today=TODAY) == 0  # today's reminders are in the outbox
    assert late_escalation_sweep(today=TODAY) == 0  # late follow-ups were escalated on their fourth day


def test_the_next_days_sweep_carries_the_book_on(book, db):
    tomorrow = TODAY + timedelta(days=1)
    overdue = dict(Loan.objects.filter(status=LoanStatus.OVERDUE).values_list("pk", "dpd"))
    owed = dict(Loan.objects.filter(status=LoanStatus.OVERDUE).values_list("pk", "past_due_amount"))
    due_today = Loan.objects.filter(status=LoanStatus.ACTIVE, next_due_date=TODAY).count()

    result = sweep_daily(business_date=tomorrow)

    assert result.newly_overdue == due_today
    assert dict(Loan.objects.filter(pk__in=overdue).values_list("pk", "dpd")) == {
        pk: dpd + 1 for pk, dpd in overdue.items()
    }
    # What is past due is what loan_refresh_summary says for tomorrow, never less than today's.
    for loan in Loan.objects.filter(pk__in=overdue):
        swept = loan.past_due_amount
        assert swept == loan_refresh_summary(loan, today=tomorrow).past_due_amount, loan.number
        assert swept >= owed[loan.pk], loan.number
    assert result.accruals_written > 0
    assert PenaltyAccrual.objects.filter(accrual_date=tomorrow).count() == result.accruals_written


# --- the pages --------------------------------------------------------------------------------------------------------
def _staff(role: str, branch_id: int):
    from accounts.models import User

    return User.objects.filter(groups__name=role, branch_id=branch_id).order_by("pk").first()


def test_staff_pages_render_the_generated_book(book, db, client):
    loan = Loan.objects.filter(status=LoanStatus.OVERDUE).order_by("-dpd").first()
    client.force_login(loan.officer)
    listing = client.get(reverse("postloan:list"), {"status": "overdue"})
    assert listing.status_code == 200 and loan.number in listing.content.decode()
    detail = client.get(reverse("postloan:detail", args=[loan.pk]))
    assert detail.status_code == 200 and loan.number in detail.content.decode()
    for tab in ("repayments", "penalties", "classification", "timeline"):
        assert client.get(reverse("postloan:detail", args=[loan.pk]), {"tab": tab}).status_code == 200
    overdue = client.get(reverse("postloan:overdue"))
    assert overdue.status_code == 200
    assert client.get(reverse("followups:today")).status_code == 200
    assert client.get(reverse("followups:inquiries")).status_code == 200
    application = Application.objects.filter(branch_id=loan.branch_id, status=ApplicationStatus.SUBMITTED).first()
    assert client.get(reverse("applications:list")).status_code == 200
    if application is not None:
        assert client.get(reverse("applications:detail", args=[application.pk])).status_code == 200

    manager = _staff(Role.MANAGER, loan.branch_id)
    client.force_login(manager)
    overdue = client.get(reverse("postloan:overdue"))
    assert overdue.status_code == 200 and loan.number in overdue.content.decode()
    for tab in ("pipeline", "portfolio", "followups", "service", "workload"):
        assert client.get(reverse("dashboard:tab", args=[tab])).status_code == 200, tab


def test_follow_up_warning_inquiry_and_schedule_pages_render(book, db, client):
    record = FollowUp.objects.filter(status=FollowUpStatus.APPROVED).select_related("officer").first()
    client.force_login(record.officer)
    page = client.get(reverse("followups:record", args=[record.pk]))
    assert page.status_code == 200 and record.summary in page.content.decode()
    prepaid = Loan.objects.filter(current_version=2).first()
    client.force_login(prepaid.officer)
    versions = client.get(reverse("postloan:detail", args=[prepaid.pk]), {"tab": "versions"})
    assert versions.status_code == 200
    for number in (1, 2):
        assert client.get(reverse("postloan:schedule_version", args=[prepaid.pk, number])).status_code == 200

    warning = RiskWarning.objects.filter(status="open").first()
    client.force_login(_staff(Role.RISK_OFFICER, warning.branch_id))
    listing = client.get(reverse("followups:warnings"))
    assert listing.status_code == 200 and warning.loan.number in listing.content.decode()
    assert client.get(reverse("followups:warning", args=[warning.pk])).status_code == 200
    assert client.get(reverse("followups:review_queue")).status_code == 200

    inquiry = Inquiry.objects.filter(status=InquiryStatus.ANSWERED).select_related("assignee").first()
    client.force_login(inquiry.assignee)
    page = client.get(reverse("followups:inquiry", args=[inquiry.pk]))
    assert page.status_code == 200 and inquiry.replies.first().text in page.content.decode()


def test_portal_pages_render_for_a_generated_borrower(book, db, client):
    loan = (
        Loan.objects.filter(borrower__user__isnull=False, status__in=[LoanStatus.ACTIVE, LoanStatus.OVERDUE])
        .select_related("borrower__user")
        .order_by("pk")
        .first()
    )
    client.force_login(loan.borrower.user)
    overview = client.get(reverse("portal:home"))
    assert overview.status_code == 200 and loan.number in overview.content.decode()
    page = client.get(reverse("portal:loan", args=[loan.number]))
    assert page.status_code == 200
    assert client.get(reverse("portal:messages")).status_code == 200
    assert client.get(reverse("portal:inquiries")).status_code == 200
    application = loan.borrower.applications.order_by("pk").first()
    assert client.get(reverse("portal:application", args=[application.number])).status_code == 200


def test_staff_and_branches_are_skewed(book, db):
    by_branch = list(
        Loan.objects.values("branch__code")
        .annotate(count=Count("pk"))
        .order_by("-count")
        .values_list("count", flat=True)
    )
    assert len(by_branch) >= 8 and by_branch[0] > 3 * by_branch[-1]
    by_officer = list(
        Loan.objects.filter(branch__code="BJ").values("officer").annotate(count=Count("pk")).order_by("-count")
    )
    assert by_officer[0]["count"] > 2 * by_officer[-1]["count"]
    assert Loan.objects.filter(~Q(officer__branch_id=F("branch_id"))).count() == 0


def test_contracts_and_disbursements_wait_for_confirmation(book, db):
    waiting = Contract.objects.filter(status="prepared").select_related("application")
    assert waiting.exists()
    assert {contract.application.status for contract in waiting} == {ApplicationStatus.APPROVED}
    assert Contract.objects.filter(status="signed", disbursement__status="prepared").exists()
    # Every disbursed loan's contract was prepared by its officer and confirmed by someone else.
    assert not Contract.objects.filter(status="signed", confirmed_by=F("prepared_by")).exists()
    assert (
        Contract.objects.filter(status="signed").count()
        == LOANS + Application.objects.filter(status=ApplicationStatus.CONTRACTED).count()
    )
