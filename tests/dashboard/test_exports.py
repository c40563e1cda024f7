"""Exports (issue 8): each list's columns and values on a small book, read back from the Excel and CSV files; the
branch scope and the page's filters; masked identity numbers; formula injection; a job claimed once; failures.

The book: 李明's loan in Beijing (¥120,000.00, 6 %, 12 months, equal principal, disbursed 10 January 2026, made through
the services), a copy of it in Beijing under another number, and 张华's loan in Shanghai. "Today" is 15 March 2026
(Asia/Shanghai): two installments of 李明's loan are past due, ¥10,600.00 + ¥10,550.00 = ¥21,150.00.
"""

import codecs
import csv
import io
import tempfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from applications.models import Application, Borrower
from core.dates import SHANGHAI
from dashboard import export_writers, exports
from dashboard.export_writers import safe_text
from dashboard.exports import MAX_ACTIVE_PER_USER, export_request, export_run, export_sweep
from dashboard.models.exports import ExportJob, JobStatus
from followups.models import FollowUp, Inquiry, RiskWarning
from postloan.models import Contract, Loan
from tests.applications.factories import RESIDENT_IDS, make_application, make_borrower
from tests.postloan.factories import disbursed_loan, mark_overdue, on

TODAY = date(2026, 3, 15)
BEIJING = "Beijing Chaoyang Branch"
LOAN_HEADERS = [
    "Loan number",
    "Contract number",
    "Borrower",
    "Identity number (masked)",
    "Mobile (masked)",
    "Product",
    "Branch",
    "Officer",
    "Principal",
    "Annual rate (%)",
    "Term (months)",
    "Repayment method",
    "Disbursed on",
    "Maturity date",
    "Status",
    "Outstanding principal",
    "Next due date",
    "Next due amount",
    "Days past due",
    "Aging bucket",
    "Classification",
]


def sh(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def copy_loan(loan: Loan, *, number: str) -> Loan:
    """Another loan of the same borrower, branch and officer (its application and contract copied), no schedule."""
    application = Application.objects.get(pk=loan.contract.application_id)
    application.pk = application.id = None
    application._state.adding = True
    application.number = f"A{number}"
    application.save()
    contract = Contract.objects.get(pk=loan.contract_id)
    contract.pk = contract.id = None
    contract._state.adding = True
    contract.number, contract.application = f"C{number}", application
    contract.save()
    copy = Loan.objects.get(pk=loan.pk)
    copy.pk = copy.id = None
    copy._state.adding = True
    copy.number, copy.contract = number, contract
    copy.save()
    return copy


@pytest.fixture
def book(staff, sh_staff, product):
    loan = disbursed_loan(staff)
    other = copy_loan(loan, number="L-BJ-COPY")
    shanghai = disbursed_loan(sh_staff, identity=RESIDENT_IDS[1])
    Borrower.objects.filter(pk=shanghai.borrower_id).update(name="张华")
    # 李明's loan is 33 days past due (first missed installment 10 February); the sweep would have said so.
    mark_overdue(
        loan, today=TODAY, dpd=33, bucket="31_60", classification="special_mention", overdue_since=date(2026, 2, 11)
    )
    return {"loan": Loan.objects.get(pk=loan.pk), "copy": other, "shanghai": shanghai}


def export(user, kind, file_format="xlsx", params=None, *, language="en", run=True) -> ExportJob:
    """Ask for an export as `user` on TODAY and let the (eager) task write it."""
    with on(TODAY), translation.override(language):
        job = export_request(user=user, kind=kind, file_format=file_format, params=params or {})
        if run:
            export_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def xlsx_cells(job: ExportJob) -> list[list]:
    with job.file.open("rb") as handle:
        sheet = load_workbook(io.BytesIO(handle.read())).active
    return [list(row) for row in sheet.iter_rows()]


def xlsx_rows(job: ExportJob) -> list[list]:
    return [[cell.value for cell in row] for row in xlsx_cells(job)]


def csv_rows(job: ExportJob) -> list[list[str]]:
    with job.file.open("rb") as handle:
        raw = handle.read()
    assert raw.startswith(codecs.BOM_UTF8), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(raw[len(codecs.BOM_UTF8) :].decode("utf-8"))))


def by_first_column(rows: list[list]) -> dict:
    return {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


# --- the loan book ------------------------------------------------------------------------------------------------
def test_it_writes_the_loan_book_to_excel_with_numbers_dates_labels_and_masked_identity(staff, book):
    job = export(staff["manager"], "loans")

    assert job.status == JobStatus.DONE and job.rows_total == job.rows_done == 2
    assert job.file.name.endswith(".xlsx")
    cells = xlsx_cells(job)
    assert [cell.value for cell in cells[0]] == LOAN_HEADERS
    rows = by_first_column(xlsx_rows(job))
    loan = book["loan"]
    row = rows[loan.number]
    assert row == {
        "Loan number": loan.number,
        "Contract number": loan.contract.number,
        "Borrower": "李明",
        "Identity number (masked)": "110101********0013",
        "Mobile (masked)": "138****8000",
        "Product": "Personal consumer loan",
        "Branch": BEIJING,
        "Officer": "王芳",
        "Principal": 120000,
        "Annual rate (%)": 6,
        "Term (months)": 12,
        "Repayment method": "Equal principal",
        "Disbursed on": datetime(2026, 1, 10),
        "Maturity date": datetime(2027, 1, 10),
        "Status": "Overdue",
        "Outstanding principal": 120000,
        "Next due date": datetime(2026, 2, 10),
        "Next due amount": 10600,
        "Days past due": 33,
        "Aging bucket": "31–60 days past due",
        "Classification": "Special mention",
    }
    # Money is a number shown with two decimals, dates are dates: a spreadsheet can sum and sort them.
    by_header = dict(zip(LOAN_HEADERS, next(r for r in cells[1:] if r[0].value == loan.number), strict=True))
    assert by_header["Principal"].data_type == "n" and by_header["Principal"].number_format == "#,##0.00"
    assert by_header["Disbursed on"].is_date and by_header["Disbursed on"].number_format == "yyyy-mm-dd"
    # The full identity number is nowhere in the file: exporting reads the stored masked copy, never decrypts.
    flat = {str(value) for line in xlsx_rows(job) for value in line}
    assert not any(RESIDENT_IDS[0] in value or RESIDENT_IDS[1] in value for value in flat)


def test_it_writes_the_same_loan_book_to_csv_with_a_byte_order_mark(staff, book):
    rows = by_first_column(csv_rows(export(staff["manager"], "loans", "csv")))

    row = rows[book["loan"].number]
    assert row["Principal"] == "120000.00"
    assert row["Annual rate (%)"] == "6.0000"
    assert row["Disbursed on"] == "2026-01-10"
    assert row["Next due amount"] == "10600.00"
    assert row["Identity number (masked)"] == "110101********0013"
    assert row["Status"] == "Overdue"
    assert set(rows) == {book["loan"].number, "L-BJ-COPY"}


def test_headers_and_labels_are_in_the_language_of_the_person_who_asked(staff, book):
    job = export(staff["manager"], "loans", "csv", language="zh-hans")

    assert job.language == "zh-hans"
    header, *lines = csv_rows(job)
    assert header[LOAN_HEADERS.index("Borrower")] == "借款人"
    assert {line[LOAN_HEADERS.index("Status")] for line in lines} == {"逾期", "还款中"}  # Overdue, Active


def test_a_branch_manager_exports_only_the_branch_and_head_office_every_branch(staff, book):
    beijing = by_first_column(xlsx_rows(export(staff["manager"], "loans")))
    head_office = by_first_column(xlsx_rows(export(staff["hq_manager"], "loans")))
    shanghai = by_first_column(xlsx_rows(export(staff["other_risk"], "loans")))

    assert set(beijing) == {book["loan"].number, "L-BJ-COPY"}
    assert set(head_office) == {book["loan"].number, "L-BJ-COPY", book["shanghai"].number}
    assert set(shanghai) == {book["shanghai"].number}
    assert shanghai[book["shanghai"].number]["Borrower"] == "张华"


def test_the_page_filters_choose_the_rows(staff, branches, book):
    overdue_only = by_first_column(xlsx_rows(export(staff["manager"], "loans", params={"status": ["overdue"]})))
    shanghai_only = by_first_column(
        xlsx_rows(export(staff["hq_manager"], "loans", params={"branch": [str(branches["SH"].pk)]}))
    )
    # A Beijing manager naming Shanghai gets no Shanghai row: the branch filter is not even offered to them.
    forged = by_first_column(xlsx_rows(export(staff["manager"], "loans", params={"branch": [str(branches["SH"].pk)]})))

    assert set(overdue_only) == {book["loan"].number}
    assert set(shanghai_only) == {book["shanghai"].number}
    assert set(forged) == {book["loan"].number, "L-BJ-COPY"}


@pytest.fixture
def lists(staff, book):
    """Besides the book: a draft application, late and upcoming follow-ups, warnings and inquiries in both branches."""
    make_application(staff["officer"], borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[2]))
    for number, loan in enumerate((book["loan"], book["copy"], book["shanghai"]), start=1):
        for kind, due in (("first", date(2026, 2, 9)), ("second", date(2026, 4, 10))):
            FollowUp.objects.create(
                loan=loan, kind=kind, branch=loan.branch, officer=loan.officer, due_on=due, planned_on=due
            )
        RiskWarning.objects.create(
            loan=loan,
            branch=loan.branch,
            level="high" if number % 2 else "medium",
            summary="收入下降",
            opened_at=sh(date(2026, 3, 10 + number)),
            acknowledge_due_at=sh(date(2026, 3, 11 + number)),
            status="open" if number < 3 else "acknowledged",
        )
        Inquiry.objects.create(
            number=f"Q-{number}",
            borrower=loan.borrower,
            branch=loan.branch,
            category="repayment" if number % 2 else "product",
            question="什么时候还款？",
            assignee=loan.officer,
            created_at=sh(date(2026, 3, 13), 9 + number),
            target_hours=4,
            due_at=sh(date(2026, 3, 13), 13 + number),
        )


def _first_column_of(kind: str, row) -> str:
    if kind == "followups":
        return (row.loan or row.application).number
    return row.loan.number if kind == "warnings" else row.number


@pytest.mark.parametrize(
    ("kind", "url_name", "params", "count"),
    [
        ("loans", "postloan:list", {}, 3),
        ("loans", "postloan:list", {"status": "active"}, 2),
        ("loans", "postloan:list", {"officer": "other_officer"}, 1),
        ("overdue", "postloan:overdue", {}, 1),
        ("overdue", "postloan:overdue", {"bucket": "1_30"}, 0),
        ("overdue", "postloan:overdue", {"officer": "officer"}, 1),
        ("applications", "applications:list", {}, 4),
        ("applications", "applications:list", {"status": "disbursed"}, 3),
        ("followups", "followups:team", {}, 3),
        ("followups", "followups:team", {"officer": "other_officer"}, 1),
        ("warnings", "followups:warnings", {}, 3),
        ("warnings", "followups:warnings", {"status": "open"}, 2),
        ("inquiries", "followups:inquiries", {}, 3),
        ("inquiries", "followups:inquiries", {"category": "product"}, 1),
    ],
)
def test_an_export_holds_exactly_the_rows_the_list_page_shows(client, staff, lists, kind, url_name, params, count):
    # An officer filter names one of the staff; its id is known only now.
    params = {key: str(staff[value].pk) if key == "officer" else value for key, value in params.items()}
    client.force_login(staff["hq_manager"])
    with on(TODAY):
        page = client.get(reverse(url_name), params).context["page_obj"]
    shown = [_first_column_of(kind, row) for row in page.object_list]

    _header, *lines = xlsx_rows(export(staff["hq_manager"], kind, params={k: [v] for k, v in params.items()}))

    assert len(shown) == page.paginator.count == count
    assert [line[0] for line in lines] == shown  # the same rows in the same order


# --- the other lists ----------------------------------------------------------------------------------------------
def test_the_overdue_list_has_the_past_due_amount_as_a_number(staff, book):
    rows = by_first_column(xlsx_rows(export(staff["manager"], "overdue")))

    assert list(rows) == [book["loan"].number]
    row = rows[book["loan"].number]
    assert row["Past due amount"] == Decimal("21150.00")
    assert row["Overdue since"] == datetime(2026, 2, 11)
    assert row["Days past due"] == 33
    assert row["Aging bucket"] == "31–60 days past due"
    assert row["Mobile (masked)"] == "138****8000"


def test_the_applications_list_has_amounts_statuses_and_shanghai_times(staff, book):
    with on(date(2026, 3, 2), hour=23):  # 23:00 in Shanghai is 15:00 UTC: the file shows Shanghai's time
        draft = make_application(
            staff["officer"], borrower=make_borrower(staff["officer"], number=RESIDENT_IDS[2]), amount="35000.00"
        )
    rows = by_first_column(csv_rows(export(staff["manager"], "applications", "csv", params={"status": ["draft"]})))

    assert list(rows) == [draft.number]
    assert rows[draft.number]["Amount requested"] == "35000.00"
    assert rows[draft.number]["Status"] == "Draft"
    assert rows[draft.number]["Created at"] == "2026-03-02 23:00"
    assert rows[draft.number]["Submitted at"] == ""
    assert rows[draft.number]["Identity number (masked)"] == "310115********0032"


def test_the_late_followups_list_counts_the_days_late(staff, book):
    loan = book["loan"]
    for kind, due in (("first", date(2026, 2, 9)), ("second", date(2026, 4, 10))):
        FollowUp.objects.create(
            loan=loan, kind=kind, branch=loan.branch, officer=loan.officer, due_on=due, planned_on=due
        )
    FollowUp.objects.create(
        loan=book["shanghai"],
        kind="first",
        branch=book["shanghai"].branch,
        officer=book["shanghai"].officer,
        due_on=date(2026, 2, 9),
        planned_on=date(2026, 2, 9),
    )

    header, *lines = xlsx_rows(export(staff["manager"], "followups"))

    assert header[:6] == ["Loan or application", "Borrower", "Kind", "Status", "Due on", "Days late"]
    assert lines == [
        [
            loan.number,
            "李明",
            "First follow-up (D+30)",
            "Planned",
            datetime(2026, 2, 9),
            34,
            0,
            "王芳",
            "Beijing Chaoyang Branch",
        ]
    ]


def test_warnings_and_inquiries_defuse_formulas_in_what_people_typed(staff, book):
    loan = book["loan"]
    RiskWarning.objects.create(
        loan=loan,
        branch=loan.branch,
        level="high",
        signals=["job_loss", "litigation"],
        summary='=HYPERLINK("http://evil.example","click")',
        opened_at=sh(date(2026, 3, 12), 9),
        acknowledge_due_at=sh(date(2026, 3, 13), 9),
    )
    Inquiry.objects.create(
        number="Q-1",
        borrower=loan.borrower,
        branch=loan.branch,
        category="repayment",
        question="+86 138 0013 8000 please call",
        assignee=staff["officer"],
        created_at=sh(date(2026, 3, 13), 10),
        target_hours=4,
        due_at=sh(date(2026, 3, 13), 14),
    )

    warning = by_first_column(xlsx_rows(export(staff["manager"], "warnings")))[loan.number]
    warning_csv = by_first_column(csv_rows(export(staff["manager"], "warnings", "csv")))[loan.number]
    inquiry = by_first_column(xlsx_rows(export(staff["manager"], "inquiries")))["Q-1"]
    inquiry_csv = by_first_column(csv_rows(export(staff["manager"], "inquiries", "csv")))["Q-1"]

    assert warning["What was found"] == '\'=HYPERLINK("http://evil.example","click")'
    assert warning_csv["What was found"] == '\'=HYPERLINK("http://evil.example","click")'
    assert warning["Risk signals"] == "Job loss; Litigation"
    assert warning["Risk level"] == "High"
    assert warning["Past the deadline"] == "Yes"  # due 13 March 09:00, still open on the 15th
    assert warning["Opened at"] == datetime(2026, 3, 12, 9, 0)
    assert inquiry["Question"] == inquiry_csv["Question"] == "'+86 138 0013 8000 please call"
    assert inquiry["Late"] == "Yes"
    assert inquiry["Category"] == "Repayment"
    assert inquiry_csv["Reply due by"] == "2026-03-13 14:00"


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("a=b", "a=b"),
        ("bell\x07", "bell"),
    ],
)
def test_text_cells_never_start_a_formula(typed, written):
    assert safe_text(typed) == written


# --- the job ------------------------------------------------------------------------------------------------------
def test_a_job_is_claimed_once_and_a_second_run_changes_nothing(staff, book):
    job = export(staff["manager"], "loans", run=False)
    assert job.status == JobStatus.QUEUED

    with on(TODAY):
        assert export_run(job_id=job.pk) is True
    job.refresh_from_db()
    first = (job.status, job.file.name, job.rows_done, job.finished_at)
    with on(TODAY + timedelta(days=1)):
        assert export_run(job_id=job.pk) is False
    job.refresh_from_db()

    assert first[0] == JobStatus.DONE
    assert (job.status, job.file.name, job.rows_done, job.finished_at) == first


def test_progress_is_one_update_per_chunk_and_the_rows_are_one_query(staff, book, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_SIZE", 1)
    job = export(staff["manager"], "loans", run=False)

    with CaptureQueriesContext(connection) as captured, on(TODAY):
        export_run(job_id=job.pk)

    updates = [q["sql"] for q in captured if q["sql"].startswith('UPDATE "dashboard_exportjob"')]
    loan_reads = [q["sql"] for q in captured if 'FROM "postloan_loan"' in q["sql"]]
    # Claim, count, one per chunk of 1 row (2 rows), done.
    assert len(updates) == 5 and sum('"rows_done" = ' in sql for sql in updates) == 4
    assert len(loan_reads) == 2  # the count, then every row from one cursor


def test_a_worker_finding_the_job_running_leaves_it_alone(staff, book):
    job = export(staff["manager"], "loans", run=False)
    ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)

    assert export_run(job_id=job.pk) is False
    job.refresh_from_db()
    assert (job.status, job.file.name, job.rows_done) == (JobStatus.RUNNING, "", 0)


def _leftover_temp_folders() -> set[str]:
    return {path.name for path in Path(tempfile.gettempdir()).glob("loantrack-export-*")}


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_a_failing_writer_fails_the_job_with_a_message_and_keeps_no_file(
    staff, book, settings, monkeypatch, file_format
):
    before = _leftover_temp_folders()
    writer = export_writers.WRITERS[file_format]

    def broken(self, values):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "write", broken)
    job = export(staff["manager"], "loans", file_format)

    assert job.status == JobStatus.FAILED
    assert job.error == "The file could not be written. Ask again; if it fails again, tell your administrator."
    assert not job.file and job.finished_at is not None
    assert not list(Path(settings.MEDIA_ROOT).glob("exports/**/*.*"))
    assert _leftover_temp_folders() == before


def test_a_job_the_sweep_ended_meanwhile_keeps_no_file(staff, book, settings, monkeypatch):
    job = export(staff["manager"], "loans", run=False)
    write = export_writers.XlsxWriter.write

    def slow_worker(self, values):  # the sweep declares the worker dead while it writes
        ExportJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="The export was interrupted.")
        write(self, values)

    monkeypatch.setattr(export_writers.XlsxWriter, "write", slow_worker)
    with on(TODAY):
        export_run(job_id=job.pk)
    job.refresh_from_db()

    assert (job.status, job.file.name) == (JobStatus.FAILED, "")
    assert not list(Path(settings.MEDIA_ROOT).glob("exports/**/*.*"))


def test_a_lost_database_gives_the_job_back_for_the_retry(staff, book, monkeypatch):
    job = export(staff["manager"], "loans", run=False)

    def lost(self, values):
        raise OperationalError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(export_writers.XlsxWriter, "write", lost)
        with pytest.raises(OperationalError), on(TODAY):
            export_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED

    with on(TODAY):
        assert export_run(job_id=job.pk) is True  # the task's automatic retry
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (JobStatus.DONE, 2)


def test_the_task_runs_after_commit(staff, book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, on(TODAY):
        job = export_request(user=staff["manager"], kind="loans", file_format="csv", params={})
        assert ExportJob.objects.get(pk=job.pk).status == JobStatus.QUEUED

    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.rows_done == 2


# --- asking -------------------------------------------------------------------------------------------------------
def test_an_unknown_list_or_format_is_refused_and_nothing_is_recorded(staff):
    with pytest.raises(ValidationError, match="Choose a list to export"):
        export_request(user=staff["manager"], kind="borrowers", file_format="xlsx", params={})
    with pytest.raises(ValidationError, match="Choose Excel or CSV"):
        export_request(user=staff["manager"], kind="loans", file_format="pdf", params={})
    with pytest.raises(PermissionDenied):
        export_request(user=staff["officer"], kind="loans", file_format="xlsx", params={})
    assert not ExportJob.objects.exists()


def test_one_person_has_at_most_three_exports_in_progress(staff):
    for _ in range(MAX_ACTIVE_PER_USER):
        export_request(user=staff["manager"], kind="loans", file_format="csv", params={})

    with pytest.raises(ValidationError, match="You already have 3 exports being prepared"):
        export_request(user=staff["manager"], kind="loans", file_format="csv", params={})
    export_request(user=staff["risk"], kind="loans", file_format="csv", params={})  # someone else may
    assert ExportJob.objects.count() == MAX_ACTIVE_PER_USER + 1


# --- housekeeping -------------------------------------------------------------------------------------------------
def test_the_sweep_resends_lost_jobs_ends_dead_ones_and_deletes_old_files(
    staff, book, settings, django_capture_on_commit_callbacks
):
    now = sh(TODAY, 12)
    old = export(staff["manager"], "loans", "csv")
    old_path = Path(old.file.path)
    ExportJob.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=8))
    recent = export(staff["manager"], "loans", "csv")
    fields = {"requested_by": staff["risk"], "kind": "loans", "file_format": "csv", "language": "en"}
    lost = ExportJob.objects.create(**fields, created_at=now - timedelta(minutes=6))
    waiting = ExportJob.objects.create(**fields, created_at=now)
    dead = ExportJob.objects.create(**fields, status=JobStatus.RUNNING, started_at=now - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        found = export_sweep(now=now)

    assert found == {"requeued": 1, "gave_up": 0, "interrupted": 1, "deleted": 1}
    assert not ExportJob.objects.filter(pk=old.pk).exists() and not old_path.exists()
    assert Path(ExportJob.objects.get(pk=recent.pk).file.path).exists()
    assert ExportJob.objects.get(pk=lost.pk).status == JobStatus.DONE  # sent again and written
    assert ExportJob.objects.get(pk=waiting.pk).status == JobStatus.QUEUED  # merely waiting its turn
    dead.refresh_from_db()
    assert (dead.status, dead.error) == (JobStatus.FAILED, "The export was interrupted. Ask again.")
    # Twice changes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert export_sweep(now=now) == {"requeued": 0, "gave_up": 0, "interrupted": 0, "deleted": 0}
