"""Spreadsheets for the import tests: valid identity numbers in any quantity, rows of borrowers and loans, files
filled in from the downloadable template (as a person would), and jobs made from them."""

import csv
import io
from datetime import date, timedelta

from django.core.files.base import ContentFile
from openpyxl import Workbook, load_workbook

from core.identity import resident_id_check_char, uscc_check_char
from dashboard.imports import COLUMNS, template_file
from dashboard.models import ImportJob


def resident_id(n: int) -> str:
    """The n-th of a series of valid resident identity numbers (Beijing Dongcheng, born from 1970 on)."""
    born = date(1970, 1, 1) + timedelta(days=n // 500)
    first17 = f"110101{born:%Y%m%d}{n % 500:03d}"
    return first17 + resident_id_check_char(first17)


def uscc(n: int) -> str:
    first17 = f"91110108MA{n:07d}"
    return first17 + uscc_check_char(first17)


def with_bad_check_digit(number: str) -> str:
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def borrower_row(n: int, **overrides) -> dict:
    return {
        "kind": "individual",
        "name": f"借款人{n}",
        "identity_number": resident_id(n),
        "mobile": f"139{n:08d}",
        "address": f"北京市朝阳区建国路{n}号",
        "employer": "北京某某科技有限公司",
        "monthly_income": "30000.00",
        "monthly_debt_payments": "1000.00",
        "years_at_job": "5",
    } | overrides


def loan_row(n: int, *, officer: str = "db_officer", **overrides) -> dict:
    """A 12-month equal-installment loan of ¥100,000 plus n yuan at 6 %, disbursed 10 Jan 2026, 2 installments paid."""
    return (
        borrower_row(n)
        | {
            "contract_number": f"JK-{n:05d}",
            "product_code": "CONSUMER",
            "officer_username": officer,
            "principal": f"{100000 + n}.00",
            "annual_rate": "6.00",
            "term_months": "12",
            "method": "equal_installment",
            "disbursed_on": "2026-01-10",
            "first_due_date": "2026-02-10",
            "paid_installments": "2",
        }
        | overrides
    )


def xlsx_from_template(kind: str, rows: list[dict]) -> bytes:
    """The downloaded template with rows typed into its first sheet, in its column order."""
    workbook = load_workbook(io.BytesIO(template_file(kind, "xlsx")))
    sheet = workbook.worksheets[0]
    keys = [column.key for column in COLUMNS[kind]]
    for row in rows:
        sheet.append([row.get(key, "") for key in keys])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def big_xlsx(kind: str, rows) -> bytes:
    """A large workbook written in constant memory (write-only), with the template's headers."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    columns = COLUMNS[kind]
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([row.get(column.key, "") for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_file(kind: str, rows: list[dict], *, encoding: str = "utf-8-sig", headers: list[str] | None = None) -> bytes:
    columns = COLUMNS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers or [column.header for column in columns])
    for row in rows:
        writer.writerow([row.get(column.key, "") for column in columns])
    return buffer.getvalue().encode(encoding)


def make_job(user, kind: str, data: bytes, name: str, *, language: str = "en") -> ImportJob:
    job = ImportJob(uploaded_by=user, kind=kind, original_name=name, language=language)
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    return job
