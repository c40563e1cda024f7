"""A large export in bounded memory (issue 8: "a 50,000-loan export completes with bounded memory").

The book is written straight into PostgreSQL with INSERT … SELECT generate_series (a borrower, an application, a
contract and a loan per row: seconds instead of minutes through the services) and committed; each export then runs
as a worker runs it, in a process of its own forked from this one, at full speed. What is measured is how much the
worker's peak resident memory (the kernel's high-water mark, ru_maxrss) grows while it writes the file: everything
the export holds at once, Python objects, the C libraries and the allocator's leftovers alike. Two checks: a ceiling
(measured on this code, with room, see GROWTH_CEILING), and the one that matters, ten times the rows must cost
about what one time costs. A writer that kept its rows (a list of the queryset, openpyxl's ordinary Workbook) holds
several kilobytes a row: hundreds of megabytes for 50,000 rows, and both checks fail.
"""

import json
import os
import resource
import sys
import time
import traceback
import zipfile

import pytest
from django.db import connection, connections
from django.utils import translation

from dashboard import exports
from dashboard.exports import export_request, export_run
from dashboard.models.exports import ExportJob, JobStatus

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the book is built with generate_series"),
    pytest.mark.skipif(not hasattr(os, "fork"), reason="each export runs in a forked worker process"),
    # The book is committed so that the forked workers, on their own connections, see it; the tables are emptied
    # after the test (data migrations' rows too: see the reply_library fixture in tests/conftest.py).
    pytest.mark.django_db(transaction=True),
]

LOANS, SMALL = 50_000, 5_000
# Growth of the worker's peak RSS during one export, measured on this code (openpyxl 3.1 with lxml, busy machine):
# CSV 7–12 MB for 5,000 rows and 7–12 MB for 50,000; Excel 7–15 MB and 8–15 MB. The chunk of 2,000 rows, openpyxl's
# buffers and the pages the worker touches first set it, not the rows written; a kept row costs kilobytes.
GROWTH_CEILING_KB = 40 * 1024
# 50,000 rows may grow at most twice what 5,000 rows grow, plus this (the allocator's granularity, noise).
GROWTH_SLACK_KB = 8 * 1024
# ru_maxrss is in kilobytes on Linux, in bytes on macOS.
RUSAGE_KB = 1024 if sys.platform == "darwin" else 1

BORROWERS = """
INSERT INTO applications_borrower (created_at, updated_at, identity_type, identity_number, identity_hash,
    identity_masked, kind, name, legal_representative, mobile, email, address, employer, monthly_income,
    monthly_debt_payments, years_at_job, branch_id, created_by_id, contact_from_hour, contact_to_hour,
    email_reminders, sms_reminders)
SELECT now(), now(), 'resident_id', 'never decrypted', 'memory-' || g,
    '110101********' || lpad((g %% 10000)::text, 4, '0'), 'individual', '借款人' || g, '',
    '138' || lpad(g::text, 8, '0'), '', '北京市朝阳区建国路' || g || '号', '',
    10000, 0, 1, %(branch)s, %(officer)s, 9, 18, true, true
FROM generate_series(1, %(loans)s) AS g
"""
APPLICATIONS = """
INSERT INTO applications_application (created_at, updated_at, number, amount, term_months, method, annual_rate,
    purpose, channel, status, status_changed_at, conditions, rejection_codes, rejection_text, branch_id,
    created_by_id, officer_id, borrower_id, product_id)
SELECT now(), now(), 'MA' || b.id, 100000 + b.id, 12, 'equal_installment', 6.5, '经营', 'walk_in', 'disbursed',
    now(), '', '[]', '', b.branch_id, b.created_by_id, b.created_by_id, b.id, %(product)s
FROM applications_borrower b WHERE b.identity_hash LIKE 'memory-%%'
"""
CONTRACTS = """
INSERT INTO postloan_contract (created_at, updated_at, number, amount, annual_rate, term_months, method,
    first_due_date, repayment_day, maturity_date, penalty_rate, parties, collateral, status, prepared_at,
    application_id, borrower_id, branch_id, officer_id, prepared_by_id, confirmed_by_id, confirmed_at)
SELECT now(), now(), 'MC' || a.id, a.amount, a.annual_rate, 12, a.method, DATE '2026-02-10', 10, DATE '2027-01-10',
    9.75, '[]', '[]', 'signed', now(), a.id, a.borrower_id, a.branch_id, a.officer_id, a.officer_id, %(manager)s, now()
FROM applications_application a WHERE a.number LIKE 'MA%%'
"""
# One loan in ten is overdue, spread over the buckets; the first SMALL loans belong to the second officer.
LOANS_SQL = """
INSERT INTO postloan_loan (created_at, updated_at, number, principal, annual_rate, penalty_rate, method, term_months,
    disbursed_on, maturity_date, status, outstanding_principal, next_due_date, next_due_amount, dpd, bucket,
    classification, manual_classification, restructured, credit_balance, current_version, allocation_generation,
    overdue_since, past_due_amount, borrower_id, branch_id, contract_id, product_id, officer_id)
SELECT now(), now(), 'ML' || c.id, c.amount, c.annual_rate, c.penalty_rate, c.method, 12, DATE '2026-01-10',
    c.maturity_date,
    CASE WHEN c.id %% 10 = 0 THEN 'overdue' ELSE 'active' END,
    c.amount - (c.id %% 1000), DATE '2026-04-10', 8600.75,
    CASE WHEN c.id %% 10 = 0 THEN 45 ELSE 0 END,
    CASE WHEN c.id %% 10 = 0 THEN '31_60' ELSE 'current' END,
    CASE WHEN c.id %% 10 = 0 THEN 'special_mention' ELSE 'normal' END,
    '', false, 0, 1, 1,
    CASE WHEN c.id %% 10 = 0 THEN DATE '2026-02-11' END,
    CASE WHEN c.id %% 10 = 0 THEN 8600.75 ELSE 0 END,
    c.borrower_id, c.branch_id, c.id, %(product)s,
    CASE WHEN row_number() OVER (ORDER BY c.id) <= %(small)s THEN %(officer2)s ELSE c.officer_id END
FROM postloan_contract c WHERE c.number LIKE 'MC%%'
"""


@pytest.fixture
def large_book(staff, product):
    started = time.perf_counter()
    values = {
        "loans": LOANS,
        "small": SMALL,
        "branch": staff["officer"].branch_id,
        "officer": staff["officer"].pk,
        "officer2": staff["officer2"].pk,
        "manager": staff["manager"].pk,
        "product": product.pk,
    }
    with connection.cursor() as cursor:
        for statement in (BORROWERS, APPLICATIONS, CONTRACTS, LOANS_SQL):
            cursor.execute(statement, values)
        cursor.execute("ANALYZE postloan_loan")
    return time.perf_counter() - started


def _peak_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // RUSAGE_KB


_INHERITED: list = []


def _run_in_worker(job_id: int) -> dict:
    """Run the export in a forked process, as a Celery prefork worker does; the growth of its peak RSS in KB and
    its time in seconds. The process opens its own database connection (this one is closed before the fork)."""
    connections.close_all()
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: report through the pipe, never return into pytest
        os.close(reading)
        code = 1
        # A connection the parent could not close (one held open by an enclosing atomic block) must not be shared:
        # keep the inherited object alive (freeing it would end the parent's session) and open a connection of our
        # own. os._exit below runs no finalizers.
        for connection in connections.all():
            if connection.connection is not None:
                _INHERITED.append(connection.connection)
                connection.connection = None
        try:
            before, started = _peak_rss_kb(), time.perf_counter()
            claimed = export_run(job_id=job_id)
            seconds, after = time.perf_counter() - started, _peak_rss_kb()
            connections.close_all()
            report = {"claimed": claimed, "growth_kb": after - before, "seconds": seconds}
            code = 0
        except BaseException:
            report = {"error": traceback.format_exc()}
        finally:
            with os.fdopen(writing, "w") as pipe:
                json.dump(report, pipe)
            os._exit(code)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        report = json.loads(pipe.read() or "{}")
    _, status = os.waitpid(pid, 0)
    assert report, f"the worker died without a report (wait status {status})"
    assert "error" not in report, report["error"]
    assert report["claimed"]
    return report


def _measure(user, file_format: str, params: dict, queued: list[int]) -> tuple[ExportJob, int, float]:
    """Ask for one export and run it in a worker process: the job, its peak RSS growth in KB, its time in seconds."""
    with translation.override("en"):
        job = export_request(user=user, kind="loans", file_format=file_format, params=params)
    assert queued.pop() == job.pk
    report = _run_in_worker(job.pk)
    job.refresh_from_db()
    return job, report["growth_kb"], report["seconds"]


def _data_rows(job: ExportJob) -> int:
    if job.file_format == "csv":
        with job.file.open("rb") as handle:
            return sum(1 for _ in handle) - 1
    # The sheet's XML, streamed: count the rows without loading the workbook (the last 4 bytes of a chunk go with
    # the next one, so that a "<row " cut in two is still counted, and none twice).
    rows, tail = 0, b""
    with zipfile.ZipFile(job.file.path) as book, book.open("xl/worksheets/sheet1.xml") as sheet:
        for chunk in iter(lambda: sheet.read(1 << 20), b""):
            rows += (tail + chunk).count(b"<row ")
            tail = (tail + chunk)[-4:]
    return rows - 1


def test_a_50000_loan_export_runs_in_flat_memory_in_both_formats(large_book, staff, monkeypatch, capsys):
    # Committed for real, the request would run its task at once, here (Celery is eager in tests): keep the job
    # queued instead, for a worker process to run.
    queued: list[int] = []
    monkeypatch.setattr(exports, "enqueue_on_commit", lambda task, job_id: queued.append(job_id))
    manager, second_officer = staff["manager"], {"officer": [str(staff["officer2"].pk)]}
    report = [f"book of {LOANS} loans built in {large_book:.1f} s"]
    for file_format in ("csv", "xlsx"):
        small, small_growth, small_seconds = _measure(manager, file_format, second_officer, queued)
        large, large_growth, large_seconds = _measure(manager, file_format, {}, queued)

        assert (small.status, small.rows_done, _data_rows(small)) == (JobStatus.DONE, SMALL, SMALL)
        assert (large.status, large.rows_done, _data_rows(large)) == (JobStatus.DONE, LOANS, LOANS)
        measured = f"{file_format}: peak RSS grew {small_growth / 1024:.1f} MB for {SMALL} rows, "
        measured += f"{large_growth / 1024:.1f} MB for {LOANS}"
        assert large_growth < GROWTH_CEILING_KB, measured
        assert large_growth < 2 * small_growth + GROWTH_SLACK_KB, f"memory grows with the rows: {measured}"
        report.append(f"{measured} (in {small_seconds:.1f} s and {large_seconds:.1f} s)")
    with capsys.disabled():
        print("\n" + "\n".join(report))
