"""The daily sweep: penalty worked by hand, days past due, buckets and classes, overdue episodes, idempotency, and
the number of queries.

The loan of most tests: ¥100,000.00 at 6 % a year (penalty rate 9 %, the contract rate × 1.5), equal principal over
12 months, disbursed 10 Jan 2026, due on the 10th from 10 Feb: installment 1 is 8,333.33 principal + 500.00 interest.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import date, timedelta
from decimal import Decimal

import psycopg2
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from applications.models import Application
from postloan.models import (
    ClassificationChange,
    Installment,
    Loan,
    LoanEvent,
    LoanStatus,
    PenaltyAccrual,
)
from postloan.services import sweep as sweep_module
from postloan.services import sweep_daily
from postloan.signals import loan_became_overdue
from tests.conftest import require_service

from .factories import approved_application, disbursed_loan, on, post
from .sweep_book import PATTERN_PERIOD, book_state, build_book, db_snapshot, expected_class, overdue_days, scenario

pytestmark = pytest.mark.django_db

D = Decimal
FIRST_DUE = date(2026, 2, 10)


@pytest.fixture
def loan(staff, product):
    return disbursed_loan(staff, amount="100000.00")


def first_installment(loan: Loan) -> Installment:
    return Installment.objects.get(loan=loan, number=1)


@pytest.fixture
def episodes():
    """Every loan_became_overdue the test's sweeps send, as (loan_id, overdue_since)."""
    sent = []

    def receiver(sender, loan_id, overdue_since, **kwargs):
        sent.append((loan_id, overdue_since))

    loan_became_overdue.connect(receiver, dispatch_uid="test_sweep_episodes")
    yield sent
    loan_became_overdue.disconnect(dispatch_uid="test_sweep_episodes")


# --- penalty ------------------------------------------------------------------------------------------------------
def test_it_accrues_penalty_worked_by_hand_over_three_days(loan):
    for day in (11, 12, 13):
        sweep_daily(business_date=date(2026, 2, day))

    # 8,333.33 × 9 % / 360 = 2.0833325 → 2.08 a day, rounded once per day: 6.24 over three days, not 6.25.
    rows = PenaltyAccrual.objects.filter(loan=loan).order_by("accrual_date")
    assert [(row.accrual_date, row.overdue_principal, row.penalty_rate, row.amount) for row in rows] == [
        (date(2026, 2, 11), D("8333.33"), D("9.0000"), D("2.08")),
        (date(2026, 2, 12), D("8333.33"), D("9.0000"), D("2.08")),
        (date(2026, 2, 13), D("8333.33"), D("9.0000"), D("2.08")),
    ]
    assert first_installment(loan).penalty_accrued == D("6.24")
    loan.refresh_from_db()
    assert loan.penalty_accrued_through == date(2026, 2, 13)
    # What the borrower sees as due now: 8,333.33 + 500.00 + 6.24.
    assert (loan.next_due_date, loan.next_due_amount) == (FIRST_DUE, D("8839.57"))
    # Nothing accrues on the installments not yet due.
    assert not PenaltyAccrual.objects.exclude(installment__number=1).exists()


def test_it_accrues_nothing_on_the_due_date_itself(loan):
    result = sweep_daily(business_date=FIRST_DUE)

    assert result.accruals_written == 0
    loan.refresh_from_db()
    assert (loan.status, loan.dpd, loan.classification) == ("active", 0, "normal")


def test_it_accrues_nothing_more_when_run_twice_on_a_day(loan):
    sweep_daily(business_date=date(2026, 2, 12))

    again = sweep_daily(business_date=date(2026, 2, 12))

    assert again.accruals_written == 0
    assert PenaltyAccrual.objects.count() == 2
    assert first_installment(loan).penalty_accrued == D("4.16")


def test_it_catches_up_missed_days_on_the_principal_unpaid_now(loan, staff):
    sweep_daily(business_date=date(2026, 2, 11))
    # The sweeps of 12 and 13 Feb do not run. On 13 Feb the borrower pays the 2.08 penalty, the 500.00 interest and
    # 4,000.00 of principal: 4,333.33 principal is still overdue.
    with on(date(2026, 2, 13)):
        post(loan, "4502.08", paid_on=date(2026, 2, 13), reference="PART-1", by=staff["officer"])

    result = sweep_daily(business_date=date(2026, 2, 14))

    # One run writes the three days 12, 13 and 14 Feb, each on the principal unpaid now (the documented rule):
    # 4,333.33 × 9 % / 360 = 1.0833325 → 1.08 a day.
    assert result.accruals_written == 3
    rows = PenaltyAccrual.objects.filter(loan=loan).order_by("accrual_date")
    assert [(row.accrual_date, row.overdue_principal, row.amount) for row in rows] == [
        (date(2026, 2, 11), D("8333.33"), D("2.08")),
        (date(2026, 2, 12), D("4333.33"), D("1.08")),
        (date(2026, 2, 13), D("4333.33"), D("1.08")),
        (date(2026, 2, 14), D("4333.33"), D("1.08")),
    ]
    item = first_installment(loan)
    assert (item.penalty_accrued, item.penalty_paid) == (D("5.32"), D("2.08"))
    loan.refresh_from_db()
    assert loan.next_due_amount == D("4336.57")  # 4,333.33 principal + 3.24 penalty not yet paid
    assert loan.dpd == 4


def test_it_stops_accruing_once_the_principal_is_paid(loan, staff):
    sweep_daily(business_date=date(2026, 2, 11))
    with on(date(2026, 2, 12)):
        post(loan, "8835.41", paid_on=date(2026, 2, 12), reference="ALL-1", by=staff["officer"])  # 2.08+500+8333.33

    result = sweep_daily(business_date=date(2026, 2, 12))

    assert result.accruals_written == 0
    loan.refresh_from_db()
    assert (loan.status, loan.dpd, loan.bucket) == ("active", 0, "current")


# --- days past due, buckets and classes -----------------------------------------------------------------------------
def test_it_ages_and_classifies_a_loan_left_unpaid(loan):
    ladder = []
    for dpd in (1, 31, 91, 271, 361):
        sweep_daily(business_date=FIRST_DUE + timedelta(days=dpd))
        loan.refresh_from_db()
        ladder.append((loan.dpd, loan.bucket, loan.classification, loan.status))

    assert ladder == [
        (1, "1_30", "special_mention", "overdue"),
        (31, "31_60", "special_mention", "overdue"),
        (91, "91_180", "substandard", "overdue"),
        (271, "181_360", "doubtful", "overdue"),
        (361, "360_plus", "loss", "overdue"),
    ]
    changes = ClassificationChange.objects.filter(loan=loan).order_by("pk")
    assert [(c.from_class, c.to_class, c.source, c.dpd, c.business_date, c.reason, c.by_id) for c in changes] == [
        ("normal", "special_mention", "sweep", 1, date(2026, 2, 11), "1 day past due: at least special mention", None),
        (
            "special_mention",
            "substandard",
            "sweep",
            91,
            date(2026, 5, 12),
            "91 days past due: at least substandard",
            None,
        ),
        ("substandard", "doubtful", "sweep", 271, date(2026, 11, 8), "271 days past due: at least doubtful", None),
        ("doubtful", "loss", "sweep", 361, date(2027, 2, 6), "361 days past due: loss", None),
    ]
    timeline = LoanEvent.objects.filter(loan=loan, kind__in=["overdue", "classification"]).order_by("pk")
    assert [(event.kind, event.data.get("to_class")) for event in timeline] == [
        ("overdue", None),
        ("classification", "special_mention"),
        ("classification", "substandard"),
        ("classification", "doubtful"),
        ("classification", "loss"),
    ]
    assert loan.overdue_since == date(2026, 2, 11)
    # Every day of every overdue installment accrued exactly once, whatever the gaps between the runs.
    expected_days = sum(
        max(0, (date(2027, 2, 6) - item.due_date).days) for item in Installment.objects.filter(loan=loan)
    )
    assert PenaltyAccrual.objects.filter(loan=loan).count() == expected_days


def test_it_improves_a_cured_loan_back_to_its_floor(loan, staff):
    sweep_daily(business_date=date(2026, 2, 20))
    with on(date(2026, 2, 21)):
        # 10 days of 2.08 penalty, 500.00 interest and 8,333.33 principal.
        post(loan, "8854.13", paid_on=date(2026, 2, 21), reference="CURE-1", by=staff["officer"])
    loan.refresh_from_db()
    assert (loan.status, loan.classification) == ("active", "special_mention")  # cured by the posting

    sweep_daily(business_date=date(2026, 2, 21))

    loan.refresh_from_db()
    assert (loan.status, loan.dpd, loan.classification) == ("active", 0, "normal")
    change = ClassificationChange.objects.filter(loan=loan).latest("pk")
    assert (change.from_class, change.to_class, change.reason) == (
        "special_mention",
        "normal",
        "Nothing past due and not in observation: normal",
    )


def test_it_keeps_a_restructured_loan_in_observation_at_least_special_mention(loan):
    Loan.objects.filter(pk=loan.pk).update(restructured=True, observation_until=date(2026, 7, 31))

    sweep_daily(business_date=date(2026, 1, 20))

    loan.refresh_from_db()
    assert (loan.dpd, loan.classification) == (0, "special_mention")
    change = ClassificationChange.objects.get(loan=loan)
    assert change.reason == "Restructured, in observation until July 31, 2026: at least special mention"

    # The last day of observation still counts; the day after, the floor is normal again.
    Installment.objects.filter(loan=loan).update(due_date=date(2027, 1, 10))  # nothing falls due meanwhile
    sweep_daily(business_date=date(2026, 7, 31))
    loan.refresh_from_db()
    assert loan.classification == "special_mention"
    sweep_daily(business_date=date(2026, 8, 1))
    loan.refresh_from_db()
    assert loan.classification == "normal"


def test_it_never_moves_a_loan_back_in_time(loan):
    sweep_daily(business_date=date(2026, 5, 12))

    result = sweep_daily(business_date=date(2026, 2, 11))

    assert (result.accruals_written, result.classification_changes) == (0, 0)
    loan.refresh_from_db()
    assert (loan.dpd, loan.classification, loan.penalty_accrued_through) == (91, "substandard", date(2026, 5, 12))


# --- overdue episodes ---------------------------------------------------------------------------------------------
def test_it_announces_each_overdue_episode_once(loan, staff, episodes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = sweep_daily(business_date=date(2026, 2, 11))
        sweep_daily(business_date=date(2026, 2, 11))
        sweep_daily(business_date=date(2026, 2, 12))
    assert first.newly_overdue == 1
    assert episodes == [(loan.pk, date(2026, 2, 11))]

    # Paid up on 12 Feb: the posting cures it; installment 2 (10 Mar) left unpaid starts a second episode.
    with on(date(2026, 2, 12)):
        post(loan, "8837.49", paid_on=date(2026, 2, 12), reference="CURE-2", by=staff["officer"])  # 4.16 penalty
    loan.refresh_from_db()
    assert (loan.status, loan.overdue_since) == ("active", None)
    with django_capture_on_commit_callbacks(execute=True):
        sweep_daily(business_date=date(2026, 3, 10))
        second = sweep_daily(business_date=date(2026, 3, 11))
        sweep_daily(business_date=date(2026, 3, 11))

    assert second.newly_overdue == 1
    assert episodes == [(loan.pk, date(2026, 2, 11)), (loan.pk, date(2026, 3, 11))]
    kinds = list(
        LoanEvent.objects.filter(loan=loan, kind__in=["overdue", "cured"]).order_by("pk").values_list("kind", "data")
    )
    assert kinds == [
        ("overdue", {"overdue_since": "2026-02-11", "dpd": 1, "business_date": "2026-02-11"}),
        ("cured", {"from_status": "overdue", "to_status": "active"}),
        ("overdue", {"overdue_since": "2026-03-11", "dpd": 1, "business_date": "2026-03-11"}),
    ]


def test_it_sends_nothing_when_the_chunk_is_rolled_back(loan, episodes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        try:
            with transaction.atomic():
                sweep_daily(business_date=date(2026, 2, 11))
                raise RuntimeError("the worker dies before commit")
        except RuntimeError:
            pass

    assert callbacks == []
    assert episodes == []
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ACTIVE


# --- applications -------------------------------------------------------------------------------------------------
def test_it_expires_approvals_not_contracted_in_30_days(staff, product):
    with on(date(2026, 3, 1)):
        application = approved_application(staff, identity="110105199001011232")

    with on(date(2026, 3, 31), hour=9):
        assert sweep_daily().expired_applications == 0
    with on(date(2026, 4, 1), hour=0):
        result = sweep_daily()

    assert (result.business_date, result.expired_applications) == (date(2026, 4, 1), 1)
    assert Application.objects.get(pk=application.pk).status == "expired"


# --- the Celery task ----------------------------------------------------------------------------------------------
def test_the_task_sweeps_the_given_day_on_the_sweeps_queue_at_half_past_midnight(loan):
    from loantrack.celery import app as celery_app
    from postloan import tasks

    outcome = tasks.sweep_daily.delay("2026-02-11").get()

    assert (outcome["business_date"], outcome["newly_overdue"], outcome["accruals_written"]) == ("2026-02-11", 1, 1)
    assert Loan.objects.get(pk=loan.pk).status == LoanStatus.OVERDUE
    assert celery_app.amqp.router.route({}, "postloan.tasks.sweep_daily")["queue"].name == "sweeps"
    spec = settings.PERIODIC_TASKS["postloan: daily overdue and classification sweep"]
    assert (spec["task"], spec["crontab"], spec["queue"]) == (
        "postloan.tasks.sweep_daily",
        {"minute": "30", "hour": "0"},
        "sweeps",
    )
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


# --- a book of loans ----------------------------------------------------------------------------------------------
BUSINESS_DATE = date(2026, 6, 1)


def test_it_sweeps_a_book_as_each_scenario_expects(loan):
    ids = build_book(loan, count=260, business_date=BUSINESS_DATE)

    result = sweep_daily(business_date=BUSINESS_DATE, chunk_size=50)

    assert result.loans_examined == 261  # the book and the fixture loan
    # The 78 loans of the book due before today and the fixture loan in chunks of 50, then one UPDATE of the 182
    # quiet ones (postloan.services.sweep._sweep_quiet).
    assert result.chunks == 3
    for index, loan_id in enumerate(ids):
        swept = Loan.objects.get(pk=loan_id)
        kind = scenario(index)
        if kind in ("current", "due_today"):
            assert (swept.status, swept.dpd, swept.classification) == ("active", 0, "normal"), index
            continue
        dpd = 1 if kind == "new" else overdue_days(index)
        assert (swept.status, swept.dpd, swept.classification) == ("overdue", dpd, expected_class(dpd)), index
        # The days not yet accrued: since the last run (yesterday, or three days ago), or since the due date.
        missed = 3 if kind == "catch_up" else 1
        due_dates = Installment.objects.filter(loan=swept, due_date__lt=BUSINESS_DATE).values_list(
            "due_date", flat=True
        )
        expected_rows = sum(min(missed, (BUSINESS_DATE - due).days) for due in due_dates)
        assert PenaltyAccrual.objects.filter(loan=swept).count() == expected_rows, index
        assert swept.penalty_accrued_through == BUSINESS_DATE
    assert result.newly_overdue == Loan.objects.filter(events__kind="overdue").count()
    assert result.accruals_written == PenaltyAccrual.objects.count()
    assert result.classification_changes == ClassificationChange.objects.count()


def test_a_second_run_changes_nothing(loan, staff, django_capture_on_commit_callbacks):
    build_book(loan, count=130, business_date=BUSINESS_DATE)
    with on(BUSINESS_DATE, hour=0):
        with django_capture_on_commit_callbacks(execute=True):
            first = sweep_daily(business_date=BUSINESS_DATE, chunk_size=40)
        before = db_snapshot(connection.cursor())

        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            second = sweep_daily(business_date=BUSINESS_DATE, chunk_size=40)

    assert (first.accruals_written, first.newly_overdue, first.classification_changes) > (0, 0, 0)
    assert second.as_dict() | {"seconds": 0} == {
        "business_date": "2026-06-01",
        "loans_examined": 131,
        "accruals_written": 0,
        "newly_overdue": 0,
        "cured": 0,
        "classification_changes": 0,
        "expired_applications": 0,
        "chunks": 2,  # the 40 loans not quiet looked at again, and one UPDATE that finds the quiet ones swept
        "seconds": 0,
    }
    assert callbacks == []
    assert db_snapshot(connection.cursor()) == before


def test_its_queries_do_not_grow_with_the_number_of_loans(loan):
    build_book(loan, count=10, business_date=BUSINESS_DATE)
    with CaptureQueriesContext(connection) as ten:
        sweep_daily(business_date=BUSINESS_DATE)
    build_book(loan, count=100, business_date=BUSINESS_DATE + timedelta(days=1), start=10)
    with CaptureQueriesContext(connection) as hundred_and_ten:
        result = sweep_daily(business_date=BUSINESS_DATE + timedelta(days=1))

    assert result.loans_examined == 111
    assert len(ten.captured_queries) == len(hundred_and_ten.captured_queries)
    # A fixed few per pass: the chunks, one UPDATE per range of ids for the quiet loans, the chunks' last look.
    assert len(ten.captured_queries) < 30


def test_it_gives_the_connection_back_with_its_own_settings(loan):
    """The sweep runs without JIT and parallel workers; the worker's connection, reused by other tasks, gets its
    settings back."""
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    build_book(loan, count=3, business_date=BUSINESS_DATE)

    def session_settings():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('jit'), current_setting('max_parallel_workers_per_gather')")
            return cursor.fetchone()

    before = session_settings()
    with CaptureQueriesContext(connection) as run:
        sweep_daily(business_date=BUSINESS_DATE)

    assert "set_config('jit', 'off', false)" in run.captured_queries[0]["sql"]
    assert session_settings() == before


# --- two sweeps at once, and a sweep killed mid-run (PostgreSQL, committed data) -----------------------------------
@pytest.fixture
def template(staff, product):
    """The loan the book copies; closed, so that the sweep counts only the book."""
    require_service(connection.vendor == "postgresql", "needs PostgreSQL")
    loan = disbursed_loan(staff, amount="100000.00")
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.PAID_OFF, paid_off_on=date(2026, 1, 31))
    return Loan.objects.get(pk=loan.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("whole_run_lock", [True, False], ids=["advisory-lock", "row-locks-only"])
def test_two_sweeps_at_once_end_as_one_clean_run(template, episodes, monkeypatch, whole_run_lock):
    if not whole_run_lock:
        # Without the advisory lock the two runs interleave chunk by chunk; the loans' row locks alone must hold.
        monkeypatch.setattr(sweep_module, "_sweep_lock", nullcontext)
    racing = build_book(template, count=130, business_date=BUSINESS_DATE)
    barrier = threading.Barrier(2)

    def run(_):
        try:
            with translation.override("en"):
                barrier.wait(timeout=30)
                return sweep_daily(business_date=BUSINESS_DATE, chunk_size=20)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(2)))
    racing_episodes = sorted(episodes)
    # The same book again (same scenarios and amounts), swept once, alone.
    clean = build_book(template, count=130, business_date=BUSINESS_DATE, start=PATTERN_PERIOD)
    alone = sweep_daily(business_date=BUSINESS_DATE, chunk_size=20)

    assert book_state(racing) == book_state(clean)
    for count in ("accruals_written", "newly_overdue", "classification_changes"):
        assert sum(getattr(result, count) for result in results) == getattr(alone, count) > 0, count
    assert len(racing_episodes) == len(set(racing_episodes)) == alone.newly_overdue
    assert {loan_id for loan_id, _since in racing_episodes} <= set(racing)


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _connect(name: str):
    db = settings.DATABASES["default"]
    link = psycopg2.connect(
        dbname=name, user=db["USER"], password=db.get("PASSWORD") or None, host=db["HOST"] or None, port=db["PORT"]
    )
    link.autocommit = True
    return link


def _sweep_command(*extra: str) -> list[str]:
    return [sys.executable, "manage.py", "sweep_daily", "--date", BUSINESS_DATE.isoformat(), *extra]


def _sweep_in_subprocess(name: str, *extra: str) -> dict:
    done = subprocess.run(
        _sweep_command(*extra),
        cwd=settings.BASE_DIR,
        env=os.environ | {"DATABASE_URL": _database_url(name)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


BOOK_SIZE = 5000


@pytest.mark.django_db(transaction=True)
def test_a_sweep_killed_mid_run_and_run_again_ends_as_one_clean_run(template, capsys):
    build_book(template, count=BOOK_SIZE, business_date=BUSINESS_DATE)
    name = settings.DATABASES["default"]["NAME"]
    copy_name = f"{name}_clean_copy"
    connection.close()  # CREATE DATABASE … TEMPLATE needs the source without sessions
    admin = _connect("postgres")
    links = []
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
            # Threads of earlier tests in this worker may have left idle sessions on the test database; a template
            # copy needs none, and they hold nothing this test needs.
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cursor.execute(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"')
        main, clean = _connect(name), _connect(copy_name)
        links += [main, clean]

        # Small chunks, so the run is long enough to be killed between two commits.
        worker = subprocess.Popen(
            _sweep_command("--chunk-size", "50"),
            cwd=settings.BASE_DIR,
            env=os.environ | {"DATABASE_URL": _database_url(name)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        swept_sql = "SELECT count(*) FROM postloan_loan WHERE penalty_accrued_through = %s"
        deadline = time.monotonic() + 60
        with main.cursor() as cursor:
            while time.monotonic() < deadline and worker.poll() is None:
                cursor.execute(swept_sql, [BUSINESS_DATE])
                if cursor.fetchone()[0] > 0:
                    break
                time.sleep(0.002)
            assert worker.poll() is None, "the sweep finished before it could be killed"
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            cursor.execute(swept_sql, [BUSINESS_DATE])
            swept_before_kill = cursor.fetchone()[0]
        assert worker.returncode == -signal.SIGKILL
        assert 0 < swept_before_kill < BOOK_SIZE
        assert swept_before_kill % 50 == 0  # whole chunks only: a chunk commits all of its loans or none

        rerun = _sweep_in_subprocess(name)
        started = time.monotonic()
        once = _sweep_in_subprocess(copy_name)
        wall = time.monotonic() - started

        assert rerun["loans_examined"] == once["loans_examined"] == BOOK_SIZE
        assert 0 < rerun["accruals_written"] < once["accruals_written"]
        assert 0 < rerun["newly_overdue"] < once["newly_overdue"]
        with main.cursor() as killed_cursor, clean.cursor() as clean_cursor:
            assert db_snapshot(killed_cursor) == db_snapshot(clean_cursor)
        with capsys.disabled():
            print(
                f"\n{BOOK_SIZE} loans: the sweep took {once['seconds']:.2f} s ({wall:.2f} s with process start), "
                f"{once['accruals_written']} accruals, {once['newly_overdue']} newly overdue, "
                f"{once['classification_changes']} classification changes; killed after {swept_before_kill} loans"
            )
    finally:
        for link in links:
            link.close()
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
        admin.close()
