"""Planned follow-ups in the database: created when a loan is disbursed, by the daily safety net, never twice (run
again, at the same time, or killed and run again), re-dated when a loan is rescheduled, and one overdue call per
overdue episode.

The loan of most tests (tests/followups/conftest.py): ¥120,000.00 over 12 months, equal principal, disbursed 10 Jan
2026, due on the 10th from 10 Feb 2026 to 10 Jan 2027; its plan is first 9 Feb, second 10 Apr, pre-maturity 11 Dec.
"""

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from followups import planning, tasks
from followups.models import FollowUp, FollowUpPolicy
from followups.planning import (
    followups_plan_for_loan,
    followups_redate_for_loan,
    followups_sweep_missing,
    overdue_call_for_episode,
)
from followups.policy import plan
from loantrack.celery import app as celery_app
from postloan import services as postloan_services
from postloan.models import Installment, Loan, LoanStatus
from tests.applications.factories import RESIDENT_IDS
from tests.conftest import require_service
from tests.postloan.factories import disbursed_loan as plain_loan
from tests.postloan.factories import on, post
from tests.postloan.sweep_book import build_book

from .factories import disbursed_loan

pytestmark = pytest.mark.django_db

PLAN_12 = [
    ("first", 1, date(2026, 2, 9)),
    ("second", 1, date(2026, 4, 10)),
    ("pre_maturity", 1, date(2026, 12, 11)),
]


def rows(loan) -> list[tuple]:
    """(kind, sequence, due_on) of the loan's follow-ups, by date."""
    return list(
        FollowUp.objects.filter(loan=loan)
        .order_by("due_on", "kind", "sequence")
        .values_list("kind", "sequence", "due_on")
    )


def states(loan) -> list[tuple]:
    return list(
        FollowUp.objects.filter(loan=loan)
        .order_by("due_on", "kind", "sequence")
        .values_list("kind", "sequence", "due_on", "planned_on", "status")
    )


# --- disbursement -------------------------------------------------------------------------------------------------
def test_disbursing_a_loan_plans_its_follow_ups_for_its_officer(staff, product, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        loan = disbursed_loan(staff)
        assert rows(loan) == []  # not before the disbursement commits

    planned = list(FollowUp.objects.filter(loan=loan).order_by("due_on"))
    assert [(f.kind, f.sequence, f.due_on, f.planned_on, f.status) for f in planned] == [
        (kind, sequence, due, due, "planned") for kind, sequence, due in PLAN_12
    ]
    assert {(f.officer_id, f.branch_id) for f in planned} == {(loan.officer_id, loan.branch_id)}
    assert FollowUp.history.filter(loan=loan, history_type="+").count() == 3


def test_nothing_is_planned_when_the_disbursement_rolls_back(staff, product, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        disbursed_loan(staff)
        raise RuntimeError("the request failed after the disbursement")
    assert callbacks == []
    assert FollowUp.objects.count() == 0


def test_a_products_policy_shapes_the_plan(staff, product, loan):
    FollowUpPolicy.objects.create(product=product, first_after_days=14, pre_maturity_days=45, collision_days=15)

    assert followups_plan_for_loan(loan_id=loan.pk) == 3
    assert rows(loan) == [
        ("first", 1, date(2026, 1, 24)),
        ("second", 1, date(2026, 4, 10)),
        ("pre_maturity", 1, date(2026, 11, 26)),
    ]


# --- idempotency --------------------------------------------------------------------------------------------------
def test_the_task_then_the_sweep_twice_leave_the_same_rows(loan):
    assert tasks.plan_for_loan.delay(loan.pk).get() == 3
    before = list(FollowUp.objects.filter(loan=loan).order_by("pk").values())

    assert followups_sweep_missing(today=date(2026, 1, 11)) == 0
    assert followups_sweep_missing(today=date(2026, 1, 11)) == 0
    assert tasks.plan_for_loan.delay(loan.pk).get() == 0

    assert list(FollowUp.objects.filter(loan=loan).order_by("pk").values()) == before
    assert FollowUp.history.filter(loan=loan).count() == 3


def test_the_sweep_plans_a_loan_whose_task_was_lost_and_the_late_task_adds_nothing(staff, product, loan):
    short = plain_loan(staff, identity=RESIDENT_IDS[2], term_months=6)  # maturity 10 Jul 2026
    disbursed_tomorrow = plain_loan(staff, identity=RESIDENT_IDS[3], disbursed_on=date(2026, 1, 11))

    assert followups_sweep_missing(today=date(2026, 1, 10)) == 6
    assert rows(loan) == PLAN_12
    assert rows(short) == [
        ("first", 1, date(2026, 2, 9)),
        ("second", 1, date(2026, 4, 10)),
        ("pre_maturity", 1, date(2026, 6, 10)),
    ]
    assert rows(disbursed_tomorrow) == []  # not disbursed yet on the sweep's day
    assert followups_plan_for_loan(loan_id=loan.pk) == 0
    assert followups_sweep_missing(today=date(2026, 1, 11)) == 3  # only the loan disbursed on the 11th
    assert followups_sweep_missing(today=date(2026, 1, 11)) == 0


def test_other_databases_insert_then_read_back_the_same_rows_and_history(loan, monkeypatch):
    monkeypatch.setattr(planning, "_inserts_with_returning", lambda: False)  # SQLite's path, on this database

    assert followups_sweep_missing(today=date(2026, 1, 11)) == 3
    assert followups_plan_for_loan(loan_id=loan.pk) == 0
    assert rows(loan) == PLAN_12
    assert FollowUp.history.filter(loan=loan, history_type="+").count() == 3


def test_the_sweep_leaves_closed_loans_alone(loan):
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 1, 20))
    assert followups_sweep_missing(today=date(2026, 1, 21)) == 0
    assert rows(loan) == []


def test_the_sweep_task_runs_on_the_sweeps_queue_daily_at_one(loan):
    assert tasks.sweep_missing_followups.delay("2026-01-11").get() == 3
    assert celery_app.amqp.router.route({}, tasks.sweep_missing_followups.name)["queue"].name == "sweeps"
    assert celery_app.amqp.router.route({}, tasks.plan_for_loan.name)["queue"].name == "default"
    spec = settings.PERIODIC_TASKS["followups: plan missing follow-ups"]
    assert (spec["task"], spec["crontab"], spec["queue"]) == (
        "followups.tasks.sweep_missing_followups",
        {"minute": "0", "hour": "1"},
        "sweeps",
    )


def _race(workers: int, job) -> list:
    barrier = threading.Barrier(workers)

    def run(index):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                return job(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


@pytest.mark.django_db(transaction=True)
def test_planners_racing_on_one_loan_create_each_follow_up_once(staff, product):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = plain_loan(staff, term_months=36)  # 13 follow-ups: first, second, 10 quarterlies, pre-maturity
    # Committed data: the disbursement's own task has run already; start again from a loan without a plan.
    FollowUp.objects.filter(loan=loan).delete()
    FollowUp.history.filter(loan=loan).delete()

    def job(index):
        # Half the workers are the disbursement task (and its retries), half the daily safety net.
        if index % 2:
            return followups_sweep_missing(today=date(2026, 1, 10))
        return followups_plan_for_loan(loan_id=loan.pk)

    created = _race(8, job)

    expected = [(kind, due) for kind, due in plan(disbursed_on=loan.disbursed_on, maturity_on=loan.maturity_date)]
    assert len(expected) == 13
    assert [(kind, due) for kind, _sequence, due in rows(loan)] == expected
    assert sum(created) == 13  # each row counted by the one worker that inserted it
    assert FollowUp.history.filter(loan=loan).count() == 13


# --- a safety net killed again and again ----------------------------------------------------------------------------
BUSINESS_DATE = date(2026, 6, 1)
BOOK_SIZE = 2000
KILLS = 20


# Like a Celery prefork pool: a parent with Django set up (and no database connection) forks one worker per line on
# stdin and prints its pid, then how it ended (a wait status); each worker sweeps in chunks of 10 loans.
POOL = f"""
import datetime, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loantrack.settings.local")
import django
django.setup()
from followups.planning import followups_sweep_missing
print("ready", flush=True)
for _line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        followups_sweep_missing(today=datetime.date.fromisoformat("{BUSINESS_DATE.isoformat()}"), chunk_size=10)
        os._exit(0)
    print(pid, flush=True)
    print(os.waitpid(pid, 0)[1], flush=True)
"""


def expected_followups(loans) -> set[tuple]:
    """What DESIGN.md §5 plans for each loan, numbered here independently of the code under test; plus the
    overdue call of each loan that is overdue (due the day after the business date: the episodes began earlier)."""
    expected = set()
    for loan in loans:
        quarter = 0
        for kind, due in plan(disbursed_on=loan.disbursed_on, maturity_on=loan.maturity_date, term_months=12):
            quarter += kind == "quarterly"
            expected.add((loan.pk, kind, quarter if kind == "quarterly" else 1, due))
        if loan.status == LoanStatus.OVERDUE:
            expected.add((loan.pk, "overdue_call", 1, date(2026, 6, 2)))
    return expected


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_many_times_then_run_once_leaves_exactly_the_plan(staff, product, capsys):
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    template = plain_loan(staff)
    Loan.objects.filter(pk=template.pk).update(status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 1, 31))
    FollowUp.objects.all().delete()  # the template's own plan, made by its disbursement task
    FollowUp.history.all().delete()
    ids = build_book(Loan.objects.get(pk=template.pk), count=BOOK_SIZE, business_date=BUSINESS_DATE)
    loans = list(Loan.objects.filter(pk__in=ids))
    expected = expected_followups(loans)
    per_loan = Counter(loan_id for loan_id, *_rest in expected)
    assert sum(loan.status == LoanStatus.OVERDUE for loan in loans) > 100

    rng = random.Random(20260601)
    pool = subprocess.Popen(
        [sys.executable, "-c", POOL],
        cwd=settings.BASE_DIR,
        env=os.environ | {"DATABASE_URL": _database_url()},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    kills = []
    try:
        assert pool.stdout.readline().strip() == "ready"
        started = time.monotonic()
        for _round in range(KILLS):
            before = FollowUp.objects.count()
            pool.stdin.write("go\n")
            pool.stdin.flush()
            worker = int(pool.stdout.readline())
            # Wait until this worker has committed something, then kill it a random moment later.
            while FollowUp.objects.count() == before and os.path.exists(f"/proc/{worker}/stat"):
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 0.15))
            with contextlib.suppress(ProcessLookupError):  # it may have just finished
                os.kill(worker, signal.SIGKILL)
            status = int(pool.stdout.readline())
            if os.WIFEXITED(status):
                break  # it finished the work before the kill: nothing is left to interrupt
            assert os.WTERMSIG(status) == signal.SIGKILL
            kills.append(FollowUp.objects.count())
    finally:
        pool.stdin.close()
        pool.wait(timeout=30)
    killed_for = time.monotonic() - started

    # A chunk commits all of its loans' follow-ups or none: no loan is ever half planned.
    counts = Counter(FollowUp.objects.filter(kind__in=["first", "second", "pre_maturity"]).values_list("loan_id"))
    partial = [
        loan_id
        for (loan_id,), count in counts.items()
        if count != sum(1 for key in expected if key[0] == loan_id and key[1] != "overdue_call")
    ]
    assert partial == []
    assert len(kills) >= 5, f"only {len(kills)} kills before the work was done"
    assert kills[-1] < len(expected)

    # Counted again here, not taken from the last kill: a COMMIT the killed worker had already sent still completes
    # in its server process a moment after the kill.
    present = FollowUp.objects.count()
    started_once = time.monotonic()
    created = followups_sweep_missing(today=BUSINESS_DATE)
    once = time.monotonic() - started_once

    found = set(FollowUp.objects.values_list("loan_id", "kind", "sequence", "due_on"))
    assert found == expected
    assert FollowUp.objects.count() == len(expected)
    assert Counter(FollowUp.objects.values_list("loan_id", flat=True)) == per_loan
    assert created == len(expected) - present
    assert FollowUp.history.count() == len(expected)  # one creation record each, none twice
    assert followups_sweep_missing(today=BUSINESS_DATE) == 0
    with capsys.disabled():
        print(
            f"\n{BOOK_SIZE} loans, {len(expected)} follow-ups: {len(kills)} kills in {killed_for:.1f} s "
            f"(rows after each: {kills}); the last sweep created {created} in {once:.2f} s"
        )


def _database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_the_safety_net_plans_a_chunk_in_the_same_number_of_queries_whatever_its_size(staff, product):
    template = plain_loan(staff)
    Loan.objects.filter(pk=template.pk).update(status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 1, 31))
    FollowUp.objects.all().delete()  # the template's own plan, made by its disbursement task
    FollowUp.history.all().delete()
    template = Loan.objects.get(pk=template.pk)

    few = build_book(template, count=10, business_date=BUSINESS_DATE)  # two of them overdue, as in the big one
    with CaptureQueriesContext(connection) as small:
        created_few = followups_sweep_missing(today=BUSINESS_DATE)
    many = build_book(template, count=40, business_date=BUSINESS_DATE, start=10)
    with CaptureQueriesContext(connection) as large:
        created_many = followups_sweep_missing(today=BUSINESS_DATE)

    assert created_few == len(expected_followups(Loan.objects.filter(pk__in=few)))
    assert created_many == len(expected_followups(Loan.objects.filter(pk__in=many)))
    assert FollowUp.history.filter(history_type="+").count() == created_few + created_many
    assert len(large) == len(small), [query["sql"][:120] for query in large.captured_queries]


# --- re-dating ----------------------------------------------------------------------------------------------------
def pay_installments(loan, staff, count: int) -> None:
    for item in Loan.objects.get(pk=loan.pk).current_installments()[:count]:
        with on(item.due_date):
            post(loan, str(item.total_due), paid_on=item.due_date, reference=f"PAY-{item.number}", by=staff["officer"])


def test_an_approved_restructuring_moves_open_follow_ups_to_the_new_maturity(
    staff, product, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        loan = plain_loan(staff, method="equal_installment")
    assert rows(loan) == PLAN_12
    # The first follow-up was done and approved, the second is waiting for review.
    FollowUp.objects.filter(loan=loan, kind="first").update(status="approved")
    FollowUp.objects.filter(loan=loan, kind="second").update(status="completed")
    pay_installments(loan, staff, 3)

    with on(date(2026, 4, 20)):
        restructuring = postloan_services.restructuring_request(
            loan=loan,
            by=staff["officer"],
            reason="店铺装修停业三个月",
            extend_months=12,
            first_due_date=date(2026, 5, 10),
        )
    with on(date(2026, 4, 21)):
        postloan_services.restructuring_risk_approve(restructuring=restructuring, by=staff["risk"])
        with django_capture_on_commit_callbacks(execute=True):
            postloan_services.restructuring_approve(restructuring=restructuring, by=staff["manager"])
    loan.refresh_from_db()
    assert (loan.maturity_date, loan.term_months) == (date(2028, 1, 10), 24)

    # Now a 24-month loan: quarterly follow-ups from the second (10 Apr), and pre-maturity at 11 Dec 2027.
    assert states(loan) == [
        ("first", 1, date(2026, 2, 9), date(2026, 2, 9), "approved"),
        ("second", 1, date(2026, 4, 10), date(2026, 4, 10), "completed"),
        ("quarterly", 1, date(2026, 7, 10), date(2026, 7, 10), "planned"),
        ("quarterly", 2, date(2026, 10, 10), date(2026, 10, 10), "planned"),
        ("quarterly", 3, date(2027, 1, 10), date(2027, 1, 10), "planned"),
        ("quarterly", 4, date(2027, 4, 10), date(2027, 4, 10), "planned"),
        ("quarterly", 5, date(2027, 7, 10), date(2027, 7, 10), "planned"),
        ("quarterly", 6, date(2027, 10, 10), date(2027, 10, 10), "planned"),
        ("pre_maturity", 1, date(2027, 12, 11), date(2027, 12, 11), "planned"),
    ]
    pre = FollowUp.objects.get(loan=loan, kind="pre_maturity")
    assert [h.due_on for h in pre.history.order_by("history_id")] == [date(2026, 12, 11), date(2027, 12, 11)]


def test_a_shorter_maturity_cancels_what_no_longer_fits_and_a_longer_one_brings_it_back(staff, product):
    loan = plain_loan(staff, term_months=24)  # maturity 10 Jan 2028
    followups_plan_for_loan(loan_id=loan.pk)
    assert [kind for kind, _seq, _due in rows(loan)].count("quarterly") == 6
    # Quarter 1 was done and sent back for correction; quarter 2's call was retried on another day.
    FollowUp.objects.filter(loan=loan, kind="quarterly", sequence=1).update(status="returned")
    FollowUp.objects.filter(loan=loan, kind="quarterly", sequence=2).update(due_on=date(2026, 10, 12))

    Loan.objects.filter(pk=loan.pk).update(maturity_date=date(2027, 1, 10), term_months=12)
    result = followups_redate_for_loan(loan_id=loan.pk)

    assert result.as_dict() == {"moved": 1, "cancelled": 5, "created": 0, "reinstated": 0}
    assert [(kind, seq, due, status) for kind, seq, due, _planned, status in states(loan)] == [
        ("first", 1, date(2026, 2, 9), "planned"),
        ("second", 1, date(2026, 4, 10), "planned"),
        ("quarterly", 1, date(2026, 7, 10), "returned"),  # a record of a contact that happened is kept
        ("quarterly", 2, date(2026, 10, 12), "cancelled"),
        ("pre_maturity", 1, date(2026, 12, 11), "planned"),
        ("quarterly", 3, date(2027, 1, 10), "cancelled"),
        ("quarterly", 4, date(2027, 4, 10), "cancelled"),
        ("quarterly", 5, date(2027, 7, 10), "cancelled"),
        ("quarterly", 6, date(2027, 10, 10), "cancelled"),
    ]
    assert followups_redate_for_loan(loan_id=loan.pk).as_dict() == {
        "moved": 0,
        "cancelled": 0,
        "created": 0,
        "reinstated": 0,
    }

    Loan.objects.filter(pk=loan.pk).update(maturity_date=date(2028, 4, 10), term_months=27)
    result = followups_redate_for_loan(loan_id=loan.pk)

    assert result.as_dict() == {"moved": 1, "cancelled": 0, "created": 1, "reinstated": 5}
    assert [(kind, seq, due, status) for kind, seq, due, _planned, status in states(loan)][2:] == [
        ("quarterly", 1, date(2026, 7, 10), "returned"),
        ("quarterly", 2, date(2026, 10, 10), "planned"),
        ("quarterly", 3, date(2027, 1, 10), "planned"),
        ("quarterly", 4, date(2027, 4, 10), "planned"),
        ("quarterly", 5, date(2027, 7, 10), "planned"),
        ("quarterly", 6, date(2027, 10, 10), "planned"),
        ("quarterly", 7, date(2028, 1, 10), "planned"),
        ("pre_maturity", 1, date(2028, 3, 11), "planned"),
    ]


# --- overdue calls ------------------------------------------------------------------------------------------------
def test_one_overdue_call_per_episode_overdue_cured_overdue_again(staff, loan, django_capture_on_commit_callbacks):
    # The clock frozen around the callbacks too: the overdue call's task runs on the sweep's day.
    with on(date(2026, 2, 11), hour=0), django_capture_on_commit_callbacks(execute=True):
        postloan_services.sweep_daily(business_date=date(2026, 2, 11))
        postloan_services.sweep_daily(business_date=date(2026, 2, 11))
    with on(date(2026, 2, 12), hour=0), django_capture_on_commit_callbacks(execute=True):
        postloan_services.sweep_daily(business_date=date(2026, 2, 12))
    calls = FollowUp.objects.filter(loan=loan, kind="overdue_call")
    assert list(calls.values_list("episode_start", "sequence", "due_on", "status")) == [
        (date(2026, 2, 11), 1, date(2026, 2, 12), "planned")
    ]
    assert calls.get().officer_id == loan.officer_id

    first = Installment.objects.get(loan=loan, number=1)
    with on(date(2026, 2, 12)):
        post(loan, str(first.outstanding), paid_on=date(2026, 2, 12), reference="CURE-1", by=staff["officer"])
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.ACTIVE
    with on(date(2026, 3, 10), hour=0), django_capture_on_commit_callbacks(execute=True):
        postloan_services.sweep_daily(business_date=date(2026, 3, 10))
    with on(date(2026, 3, 11), hour=0), django_capture_on_commit_callbacks(execute=True):
        postloan_services.sweep_daily(business_date=date(2026, 3, 11))
        postloan_services.sweep_daily(business_date=date(2026, 3, 11))
    # The safety net finds nothing missing.
    assert followups_sweep_missing(today=date(2026, 3, 11)) == 3  # the plan, never created for this loan
    assert followups_sweep_missing(today=date(2026, 3, 11)) == 0

    assert list(calls.order_by("episode_start").values_list("episode_start", "sequence", "due_on")) == [
        (date(2026, 2, 11), 1, date(2026, 2, 12)),
        (date(2026, 3, 11), 2, date(2026, 3, 12)),
    ]


def test_a_lost_overdue_signal_is_caught_up_by_the_sweep_due_the_next_day(staff, loan):
    postloan_services.sweep_daily(business_date=date(2026, 2, 11))  # callbacks not run: the signal is lost
    assert Loan.objects.get(pk=loan.pk).overdue_since == date(2026, 2, 11)

    assert followups_sweep_missing(today=date(2026, 2, 14)) == 4
    call = FollowUp.objects.get(loan=loan, kind="overdue_call")
    assert (call.episode_start, call.due_on) == (date(2026, 2, 11), date(2026, 2, 15))
    # The task arriving late finds it and adds nothing.
    assert overdue_call_for_episode(loan_id=loan.pk, overdue_since=date(2026, 2, 11), today=date(2026, 2, 14)) == call
    assert FollowUp.objects.filter(loan=loan, kind="overdue_call").count() == 1


def test_no_overdue_call_for_an_episode_already_over(staff, loan):
    assert overdue_call_for_episode(loan_id=loan.pk, overdue_since=date(2026, 2, 11)) is None
    assert tasks.overdue_call.delay(loan.pk, "2026-02-11").get() is None
    assert not FollowUp.objects.filter(loan=loan).exists()


# --- admin --------------------------------------------------------------------------------------------------------
def test_the_admin_edits_policies_and_the_library_and_only_shows_follow_ups(admin_client, loan, product):
    from django.contrib import admin
    from django.urls import reverse

    followups_plan_for_loan(loan_id=loan.pk)
    response = admin_client.post(
        reverse("admin:followups_followuppolicy_add"),
        {
            "product": product.pk,
            "first_after_days": 20,
            "second_after_days": 90,
            "pre_maturity_days": 30,
            "quarterly": "on",
            "collision_days": 15,
        },
    )
    assert response.status_code == 302
    assert FollowUpPolicy.objects.get(product=product).first_after_days == 20

    for name in ("questionset", "scripttemplate"):
        assert admin_client.get(reverse(f"admin:followups_{name}_add")).status_code == 200
    first = FollowUp.objects.get(loan=loan, kind="first")
    changelist = admin_client.get(reverse("admin:followups_followup_changelist"), {"status__exact": "planned"})
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 3
    assert admin_client.get(reverse("admin:followups_followup_change", args=[first.pk])).status_code == 200
    assert admin_client.get(reverse("admin:followups_riskwarning_changelist")).status_code == 200
    request = changelist.wsgi_request
    assert not admin.site._registry[FollowUp].has_change_permission(request, first)
    assert not admin.site._registry[FollowUp].has_delete_permission(request, first)
