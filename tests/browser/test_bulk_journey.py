"""Data in and out in bulk, in a real browser: a manager exports a filtered loan list to Excel and to CSV and finds
both under "My exports"; a manager downloads the loans template, fills it in, reads the dry run's report of the one
bad row, imports the rest, and imports the same file again to no effect.

The export book, made through the post-loan factories on days counted back from today (the live server runs on the
real clock): three loans in Beijing and two in Shanghai, all current. Filtered to Beijing, the list shows 3 loans, and
each file holds those 3 rows under an English header.

The import file: the downloaded (Chinese) template with 4 loan rows of new borrowers; the third data row (file row 4,
the header is row 1) has an identity number whose check digit is wrong. Celery runs eagerly in tests, so the dry run
and the import have finished by the time the page after each button loads.

Screenshots at desktop and phone sizes go to artifacts/screenshots/bulk-*.png.
"""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook

from accounts.roles import Role
from core.dates import add_months, local_today
from dashboard.imports import COLUMNS
from tests.applications.factories import make_product
from tests.dashboard.import_factories import loan_row, resident_id, with_bad_check_digit
from tests.dashboard.test_exports import LOAN_HEADERS
from tests.postloan.factories import disbursed_loan

from .conftest import DESKTOP, PHONE
from .test_loan_journey import click_and_wait, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BAD_FILE_ROW = 4  # the header is row 1; the third loan is the bad one


@pytest.fixture(autouse=True)
def _local_side_effects(settings):
    settings.SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def staff(branches, make_user):
    limit = Decimal("500000.00")

    def team(branch, suffix):
        return {
            "officer": make_user(f"officer_{suffix}", Role.OFFICER, branch=branch, display_name=f"信贷员{suffix}"),
            "reviewer": make_user(f"reviewer_{suffix}", Role.REVIEWER, branch=branch),
            "approver": make_user(f"approver_{suffix}", Role.APPROVER, branch=branch, approval_limit=limit),
            "manager": make_user(f"manager_{suffix}", Role.MANAGER, branch=branch, display_name=f"经理{suffix}"),
        }

    return {"BJ": team(branches["BJ"], "bj"), "SH": team(branches["SH"], "sh")}


@pytest.fixture
def export_book(staff, make_user, branches):
    """3 current loans in Beijing, 2 in Shanghai; a head-office manager who reads English."""
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    today = local_today()
    loans = {"BJ": [], "SH": []}
    for n, code in enumerate(["BJ", "BJ", "SH", "BJ", "SH"], start=1):
        loans[code].append(
            disbursed_loan(
                staff[code],
                amount=f"{50000 + 1000 * n}.00",
                identity=resident_id(n),
                signed_on=today - timedelta(days=7),
                disbursed_on=today - timedelta(days=5),
                first_due_date=today + timedelta(days=25),
            )
        )
    manager = make_user("manager_hq", Role.MANAGER, branch=branches["HQ"], display_name="马超", preferred_language="en")
    return {"manager": manager, "beijing": {loan.number for loan in loans["BJ"]}}


def shown_count(page) -> int:
    """The count a list page shows beside its title, e.g. "(3)"."""
    return int(page.locator("[data-testid=total-count]").inner_text().strip("()"))


def export_the_list(page, file_format: str) -> None:
    """On a list page: choose the file format by its label and press Export; land on the export's page."""
    labels = {"xlsx": "Excel (.xlsx)", "csv": "CSV (.csv)"}
    page.locator("[data-testid=export-form] select[name=file_format]").select_option(label=labels[file_format])
    click_and_wait(page, "[data-testid=export-button]")
    page.wait_for_selector("[data-testid=export-progress][data-status=done]")


def download(page, selector: str):
    with page.expect_download() as info:
        page.locator(selector).click()
    return info.value


def test_a_manager_exports_the_filtered_loan_list_to_excel_and_csv(export_book, live_server, page, screenshot):
    sign_in(page, live_server, export_book["manager"])
    page.goto(f"{live_server.url}/loans/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert shown_count(page) == 5

    # --- Beijing only: the list shows its 3 loans -----------------------------------------------------------------
    page.locator("#loan-filters select[name=branch]").select_option(label="Beijing Chaoyang Branch")
    click_and_wait(page, "#loan-filters button[type=submit]")
    count = shown_count(page)
    shown = set(page.locator("[data-testid=loan-row] td:first-child a").all_inner_texts())
    assert count == 3 and shown == export_book["beijing"]

    # --- Export → Excel: the progress bar full, "Ready", and the file -----------------------------------------------
    export_the_list(page, "xlsx")
    assert page.locator("h1").inner_text() == "Export of Loan book (Excel (.xlsx))"
    bar = page.locator("[data-testid=export-progress] [role=progressbar]")
    assert bar.is_visible() and bar.get_attribute("aria-valuenow") == "100"
    assert page.locator("[data-testid=export-status]").inner_text() == "Ready"
    assert page.locator("[data-testid=export-rows]").inner_text() == "3 of 3 rows written"
    link = page.locator("[data-testid=export-download]")
    assert link.inner_text() == "Download the Excel file"
    screenshot(page, "bulk-en-export-excel")
    excel = download(page, "[data-testid=export-download]")
    assert excel.suggested_filename.startswith("loantrack-loans-") and excel.suggested_filename.endswith(".xlsx")
    with open(excel.path(), "rb") as handle:  # the saved download has no .xlsx suffix: open it as a file
        sheet = load_workbook(io.BytesIO(handle.read()), read_only=True).worksheets[0]
    header, *rows = [row for row in sheet.iter_rows(values_only=True) if any(cell is not None for cell in row)]
    assert list(header) == LOAN_HEADERS
    assert len(rows) == count
    assert {row[0] for row in rows} == shown
    assert {row[header.index("Branch")] for row in rows} == {"Beijing Chaoyang Branch"}

    # --- back to the list with the same filters, then Export → CSV ----------------------------------------------
    click_and_wait(page, "[data-testid=export-list-link]")
    assert shown_count(page) == count
    assert page.locator("#loan-filters select[name=branch] option:checked").inner_text() == "Beijing Chaoyang Branch"
    export_the_list(page, "csv")
    assert page.locator("h1").inner_text() == "Export of Loan book (CSV (.csv))"
    assert page.locator("[data-testid=export-status]").inner_text() == "Ready"
    assert page.locator("[data-testid=export-download]").inner_text() == "Download the CSV file"
    screenshot(page, "bulk-en-export-csv")
    text = download(page, "[data-testid=export-download]")
    assert text.suggested_filename.endswith(".csv")
    with open(text.path(), encoding="utf-8-sig", newline="") as handle:
        header, *rows = [row for row in csv.reader(handle) if row]
    assert header == LOAN_HEADERS
    assert len(rows) == count
    assert {row[0] for row in rows} == shown

    # --- "My exports" on the dashboard lists both, newest first ---------------------------------------------------
    click_and_wait(page, "#main-nav a.nav-link:text-is('Dashboard')")
    click_and_wait(page, "[data-testid=dashboard-exports]")
    assert page.locator("h1").inner_text().startswith("My exports")
    assert shown_count(page) == 2
    listed = [
        [cell.strip() for cell in row.locator("td").all_inner_texts()[:5] if cell.strip()]
        for row in page.locator("[data-testid=export-row]").all()
    ]
    assert [(row[0], row[1], row[-2], row[-1]) for row in listed] == [
        ("Loan book", "CSV (.csv)", "Ready", "3"),
        ("Loan book", "Excel (.xlsx)", "Ready", "3"),
    ]
    assert page.locator("[data-testid=export-row] a:text-is('Download')").count() == 2
    screenshot(page, "bulk-en-exports")


# --- the import -----------------------------------------------------------------------------------------------------
def filled_template(template: bytes, rows: list[dict]) -> bytes:
    """The downloaded CSV template with rows typed under its (Chinese) headers, as a person would fill it in."""
    headers = next(csv.reader(io.StringIO(template.decode("utf-8-sig"))))
    with translation.override("zh-hans"):
        key_of = {column.header: column.key for column in COLUMNS["loans"]}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(key_of[header], "") for header in headers])
    return buffer.getvalue().encode("utf-8-sig")


def upload(page, live_server, name: str, data: bytes) -> None:
    page.goto(f"{live_server.url}/dashboard/imports/")
    page.locator("[data-testid=import-upload] input[name=kind][value=loans]").check()
    page.locator("[data-testid=import-upload] input[name=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": data}
    )
    click_and_wait(page, "[data-testid=import-upload] button[type=submit]")
    page.wait_for_selector("[data-testid=import-progress][data-status=checked]")


def counts(page) -> tuple[str, str, str]:
    return tuple(
        page.locator(f"[data-testid={name}]").inner_text() for name in ("rows-total", "rows-valid", "rows-invalid")
    )


def test_a_manager_imports_loans_from_the_template_and_a_second_run_adds_nothing(staff, live_server, page, screenshot):
    make_product(methods=["equal_principal", "equal_installment"], max_dti=None)
    manager, officer = staff["BJ"]["manager"], staff["BJ"]["officer"]
    disbursed_on = local_today() - timedelta(days=10)
    terms = {
        "disbursed_on": disbursed_on.isoformat(),
        "first_due_date": add_months(disbursed_on, 1).isoformat(),
        "paid_installments": "0",
    }
    rows = [loan_row(n, officer=officer.username, **terms) for n in (101, 102, 103, 104)]
    rows[2]["identity_number"] = with_bad_check_digit(rows[2]["identity_number"])
    good = {rows[0]["contract_number"], rows[1]["contract_number"], rows[3]["contract_number"]}

    # --- 1. Import (导入) from the dashboard, the loans template ----------------------------------------------------
    sign_in(page, live_server, manager)
    click_and_wait(page, "[data-testid=dashboard-imports]")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.locator("h1").inner_text() == "导入借款人和贷款"
    template = download(page, "[data-testid=download-loans-csv]")
    assert template.suggested_filename == "loantrack-loans-template.csv"
    with open(template.path(), "rb") as handle:
        template_bytes = handle.read()
    headers = next(csv.reader(io.StringIO(template_bytes.decode("utf-8-sig"))))
    assert "证件号码" in headers and "合同编号" in headers  # headers in the manager's language
    data = filled_template(template_bytes, rows)

    # --- 2. the dry run: one bad row, named by its row number, in Chinese -------------------------------------------
    upload(page, live_server, "存量贷款.csv", data)
    assert counts(page) == ("4", "3", "1")
    errors = page.locator("[data-testid=row-errors] tbody tr")
    assert errors.count() == 1
    row, column, problem = errors.locator("td").all_inner_texts()
    assert (row, column) == (str(BAD_FILE_ROW), "证件号码")
    assert "校验码不符" in problem and f"第 {BAD_FILE_ROW} 行" in problem
    start = page.locator("[data-testid=start-import]")
    assert start.inner_text() == "导入 3 行有效数据"
    assert page.locator("[data-testid=already-present]").count() == 0
    screenshot(page, "bulk-zh-hans-import-dry-run")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    # --- 3. import: 3 imported, nothing skipped -------------------------------------------------------------------
    click_and_wait(page, "[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress][data-status=done]")
    assert page.locator("[data-testid=import-status]").inner_text() == "已导入"
    assert page.locator("[data-testid=rows-created]").inner_text() == "3"
    assert page.locator("[data-testid=rows-skipped]").inner_text() == "0"
    assert page.locator("[data-testid=import-rows]").inner_text() == "已处理 3 / 3 行有效数据"
    screenshot(page, "bulk-zh-hans-import-done")

    # --- 4. the same file again: the 3 are already there, nothing new -------------------------------------------
    upload(page, live_server, "存量贷款.csv", data)
    assert counts(page) == ("4", "3", "1")
    assert "3 行有效数据已存在" in page.locator("[data-testid=already-present]").inner_text()
    click_and_wait(page, "[data-testid=start-import]")
    page.wait_for_selector("[data-testid=import-progress][data-status=done]")
    assert page.locator("[data-testid=rows-created]").inner_text() == "0"
    assert page.locator("[data-testid=rows-skipped]").inner_text() == "3"
    screenshot(page, "bulk-zh-hans-import-again")

    # --- 5. the loan list shows the 3 imported loans, not the bad row's -----------------------------------------
    page.goto(f"{live_server.url}/loans/")
    assert shown_count(page) == 3
    assert set(page.locator("[data-testid=loan-row] td:first-child a").all_inner_texts()) == good
    assert rows[2]["contract_number"] not in page.locator("main").inner_text()
