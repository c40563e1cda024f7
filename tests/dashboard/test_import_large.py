"""Large imports finish, with progress: 10,000 borrowers (rows_done climbs by 200 per committed chunk and reaches
10,000) and 1,000 loans (about 37 queries each: application, contract, disbursement, loan, schedule, history rows).
Timings are printed (run with -s); the ceilings only catch a run gone quadratic."""

import time
from datetime import date

import pytest

from applications.models import Borrower
from dashboard.imports import import_check, import_run, import_start, jobs
from dashboard.models import ImportJob
from postloan.models import Installment, Loan
from tests.postloan.factories import on

from .import_factories import big_xlsx, borrower_row, loan_row, make_job

TODAY = date(2026, 6, 20)


@pytest.fixture(autouse=True)
def _today():
    with on(TODAY):
        yield


@pytest.fixture
def progress(monkeypatch):
    """The job's rows_done as each chunk's transaction wrote it."""
    seen = []
    real_chunk = jobs._import_chunk

    def recording_chunk(job, chunk, details, *, done_before):
        real_chunk(job, chunk, details, done_before=done_before)
        seen.append(ImportJob.objects.values_list("rows_done", flat=True).get(pk=job.pk))

    monkeypatch.setattr(jobs, "_import_chunk", recording_chunk)
    return seen


def _timed(function, **kwargs) -> float:
    started = time.perf_counter()
    function(**kwargs)
    return time.perf_counter() - started


def test_ten_thousand_borrowers_import_with_progress(staff, branches, progress):
    rows = 10_000
    job = make_job(
        staff["manager"], "borrowers", big_xlsx("borrowers", (borrower_row(n) for n in range(rows))), "big.xlsx"
    )

    checking = _timed(import_check, job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_total, job.rows_valid, job.errors) == ("checked", rows, rows, [])
    assert Borrower.objects.count() == 0
    assert import_start(job=job, by=job.uploaded_by)
    importing = _timed(import_run, job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_created, job.rows_skipped) == ("done", rows, rows, 0)
    assert progress == list(range(200, rows + 1, 200))
    assert Borrower.objects.count() == rows
    print(f"\n10,000 borrowers: dry run {checking:.1f} s, import {importing:.1f} s ({rows / importing:.0f} rows/s)")
    assert checking + importing < 300


def test_a_thousand_loans_import_with_progress(staff, product, progress):
    rows = 1_000
    job = make_job(staff["manager"], "loans", big_xlsx("loans", (loan_row(n) for n in range(1, rows + 1))), "book.xlsx")

    checking = _timed(import_check, job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_valid) == ("checked", rows)
    assert import_start(job=job, by=job.uploaded_by)
    importing = _timed(import_run, job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_created) == ("done", rows, rows)
    assert progress == list(range(50, rows + 1, 50))
    assert Loan.objects.count() == rows and Installment.objects.count() == rows * 12
    print(f"\n{rows:,} loans: dry run {checking:.1f} s, import {importing:.1f} s ({rows / importing:.1f} loans/s)")
    assert checking + importing < 300
