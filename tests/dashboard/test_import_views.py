"""The import pages: managers only (officers 403, other branches 404), the documented templates, the upload with its
checks (wrong type or size: a message and no job), the dry-run report, one start however often it is clicked, the
progress partial, and a constant number of queries on the list."""

import io
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import User
from dashboard import imports
from dashboard.imports import COLUMNS, import_check
from dashboard.models import ImportJob
from postloan.models import Loan
from tests.postloan.factories import on

from .import_factories import csv_file, loan_row, make_job, xlsx_from_template

TODAY = date(2026, 6, 20)


@pytest.fixture(autouse=True)
def _today():
    with on(TODAY):
        yield


@pytest.fixture(autouse=True)
def _staff_read_english(staff):
    """The pages (and the row errors of what they upload) in English, the language these tests assert."""
    User.objects.filter(pk__in=[user.pk for user in staff.values()]).update(preferred_language="en")


@pytest.fixture
def checked_job(staff, product):
    rows = [loan_row(1), loan_row(2), loan_row(3, product_code="NOPE")]
    job = make_job(staff["manager"], "loans", csv_file("loans", rows), "book.csv")
    import_check(job_id=job.pk)
    job.refresh_from_db()
    return job


def _upload(client, name: str, content: bytes, kind: str = "loans"):
    return client.post(reverse("dashboard:imports"), {"kind": kind, "file": SimpleUploadedFile(name, content)})


def test_only_managers_may_import(client, staff, checked_job):
    urls = [
        reverse("dashboard:imports"),
        reverse("dashboard:import_template", args=["loans", "xlsx"]),
        reverse("dashboard:import_detail", args=[checked_job.pk]),
        reverse("dashboard:import_progress", args=[checked_job.pk]),
    ]
    client.force_login(staff["officer"])
    assert [client.get(url).status_code for url in urls] == [403] * 4
    assert client.post(reverse("dashboard:import_start", args=[checked_job.pk])).status_code == 403
    assert ImportJob.objects.get(pk=checked_job.pk).status == "checked"
    client.logout()
    assert client.get(urls[0])["Location"].startswith(reverse("accounts:login"))
    client.force_login(staff["manager"])
    assert [client.get(url).status_code for url in urls] == [200] * 4


def test_another_branchs_manager_gets_404_and_head_office_sees_it(client, staff, checked_job):
    client.force_login(staff["other_manager"])
    assert client.get(reverse("dashboard:import_detail", args=[checked_job.pk])).status_code == 404
    assert client.post(reverse("dashboard:import_start", args=[checked_job.pk])).status_code == 404
    assert "book.csv" not in client.get(reverse("dashboard:imports")).content.decode()
    client.force_login(staff["hq_manager"])
    assert client.get(reverse("dashboard:import_detail", args=[checked_job.pk])).status_code == 200


def test_the_page_documents_every_column_of_both_templates(client, staff):
    client.force_login(staff["manager"])
    page = client.get(reverse("dashboard:imports")).content.decode()
    for kind, columns in COLUMNS.items():
        assert f'data-testid="template-{kind}"' in page
        for column in columns:
            assert f"<code>{column.key}</code>" in page
            assert str(column.format).replace("'", "&#x27;") in page
    assert "Required for a new borrower" in page
    assert 'data-testid="empty-state"' in page


def test_the_templates_download_with_the_columns_as_headers(client, staff):
    client.force_login(staff["manager"])
    response = client.get(reverse("dashboard:import_template", args=["borrowers", "xlsx"]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="loantrack-borrowers-template.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == [column.header for column in COLUMNS["borrowers"]]

    response = client.get(reverse("dashboard:import_template", args=["loans", "csv"]))
    assert response.content.startswith("\ufeff".encode())  # Excel needs the BOM to read UTF-8
    assert response.content.decode("utf-8-sig").strip() == ",".join(column.header for column in COLUMNS["loans"])
    assert client.get(reverse("dashboard:import_template", args=["loans", "pdf"])).status_code == 404
    assert client.get(reverse("dashboard:import_template", args=["cars", "csv"])).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("book.txt", b"a,b\n", "Upload an Excel workbook (.xlsx) or a CSV file (.csv)"),
        ("book.xls", b"\xd0\xcf\x11\xe0 old excel", "Upload an Excel workbook (.xlsx) or a CSV file (.csv)"),
        ("book.xlsx", b"%PDF-1.4 a pdf", "This file is named .xlsx but is not an Excel workbook."),
        ("book.csv", b"\x89PNG\r\n\x1a\n\x00\x00", "This file is named .csv but is not text."),
        ("book.csv", b"x" * (10 * 1024 * 1024 + 1), "The file is 10.0 MB; the largest file accepted is 10 MB."),
    ],
)
def test_a_wrong_file_is_refused_with_a_message_and_no_job(client, staff, name, content, message):
    client.force_login(staff["manager"])
    response = _upload(client, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_an_upload_is_checked_at_once_and_the_report_shows_the_bad_rows(
    client, staff, product, django_capture_on_commit_callbacks
):
    client.force_login(staff["manager"])
    rows = [loan_row(1), loan_row(2, principal="5.00")]
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, "My book.xlsx", xlsx_from_template("loans", rows))

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("dashboard:import_detail", args=[job.pk])
    assert (job.status, job.original_name, job.language, job.uploaded_by) == (
        "checked",
        "My book.xlsx",
        "en",
        staff["manager"],
    )
    assert job.file.name.endswith(".xlsx") and "My book" not in job.file.name  # stored under a random name
    page = client.get(response["Location"]).content.decode()
    assert "Row 3, principal (yuan): The amount must be between ¥10,000.00 and ¥500,000.00 for this product." in page
    assert 'data-testid="rows-invalid">1<' in page
    assert "Import 1 valid row" in page
    assert Loan.objects.count() == 0


def test_clicking_start_twice_runs_the_import_once(
    client, staff, checked_job, monkeypatch, django_capture_on_commit_callbacks
):
    runs = []
    real_run = imports.import_run

    def counting_run(*, job_id):
        runs.append(job_id)
        return real_run(job_id=job_id)

    monkeypatch.setattr(imports, "import_run", counting_run)
    client.force_login(staff["manager"])
    url = reverse("dashboard:import_start", args=[checked_job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, follow=True)
        second = client.post(url, follow=True)

    assert runs == [checked_job.pk]
    assert "The import has started." in first.content.decode()
    assert "This import has already been started." in second.content.decode()
    job = ImportJob.objects.get(pk=checked_job.pk)
    assert (job.status, job.rows_created) == ("done", 2)
    assert Loan.objects.count() == 2
    assert client.get(url).status_code == 405  # a state change is a POST


def test_the_progress_partial_polls_while_active_and_reloads_the_page_when_finished(client, staff, checked_job):
    client.force_login(staff["manager"])
    url = reverse("dashboard:import_progress", args=[checked_job.pk])
    ImportJob.objects.filter(pk=checked_job.pk).update(status="running", rows_done=1)
    running = client.get(url, headers={"HX-Request": "true"})
    body = running.content.decode()
    assert 'hx-trigger="every 1s"' in body and "1 of 2 valid rows processed" in body
    assert "HX-Refresh" not in running
    ImportJob.objects.filter(pk=checked_job.pk).update(status="done", rows_done=2, rows_created=2)
    done = client.get(url, headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"
    assert "hx-trigger" not in done.content.decode()


def test_the_list_page_makes_the_same_number_of_queries_for_2_or_12_imports(client, staff, branches):
    client.force_login(staff["manager"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("dashboard:imports")).status_code == 200
        return len(captured)

    for number in range(2):
        make_job(staff["manager"], "borrowers", b"x", f"{number}.csv")
    few = queries()
    for number in range(10):
        make_job(staff["manager"], "borrowers", b"x", f"more-{number}.csv")
    assert queries() == few


def test_the_row_errors_are_written_in_the_language_of_the_uploader(
    client, staff, product, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=staff["manager"].pk).update(preferred_language="zh-hans")
    client.force_login(staff["manager"])
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, "book.csv", csv_file("loans", [loan_row(1, mobile="12345")]))
    job = ImportJob.objects.get()
    assert job.language == "zh-hans"
    message = job.errors[0]["message"]
    assert "2" in message and "Enter a mainland China mobile number" not in message  # the validator speaks Chinese
