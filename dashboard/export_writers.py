"""Spreadsheet files for exports: cell values (numbers, dates, safe text) and the CSV and Excel writers.

Both writers take one row at a time and keep nothing of it: CSV goes straight to the file, Excel through openpyxl's
write-only workbook (rows are streamed to a temporary file and zipped at the end), so memory does not grow with rows.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core.dates import SHANGHAI

from .models.exports import ExportFormat

# Text a spreadsheet would read as a formula (OWASP "CSV injection"); tab and carriage return too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MONEY_FORMAT, RATE_FORMAT = "#,##0.00", "0.00##"
DATE_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"

# --- cells --------------------------------------------------------------------------------------------------------
TEXT, MONEY, RATE, INTEGER, DAY, MOMENT = "text", "money", "rate", "integer", "date", "datetime"


@dataclass(frozen=True)
class Column:
    header: Any  # a lazy translation, rendered in the job's language
    fields: tuple[str, ...]  # what it reads from the list's values() rows
    value: Callable[[dict], Any]
    kind: str = TEXT
    width: int = 14  # in characters, for the spreadsheet


def safe_text(value: Any) -> str:
    """Text as a spreadsheet cell: no control characters Excel refuses, no formula (a leading apostrophe)."""
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def cell_value(kind: str, value: Any) -> Any:
    """The Python value of a cell: Decimal for money, date, naive Shanghai datetime, int, or safe text."""
    if value is None or value == "":
        return None
    if kind in (MONEY, RATE):
        return Decimal(value)
    if kind == INTEGER:
        return int(value)
    if kind == MOMENT:
        return value.astimezone(SHANGHAI).replace(tzinfo=None, microsecond=0)
    if kind == DAY:
        return value
    return safe_text(value)


def _csv_text(kind: str, value: Any) -> Any:
    if value is None:
        return ""
    if kind == MOMENT:
        return value.strftime("%Y-%m-%d %H:%M")
    if kind == DAY:
        return value.isoformat()
    return value


class CsvWriter:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""

    extension = "csv"

    def __init__(self, path: Path, *, title: str, columns: list[Column]):
        self.file = open(path, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed in close())
        self.writer = csv.writer(self.file)
        self.columns = columns
        self.writer.writerow([safe_text(column.header) for column in columns])

    def write(self, values: list) -> None:
        self.writer.writerow(
            [_csv_text(column.kind, value) for column, value in zip(self.columns, values, strict=True)]
        )

    def close(self) -> None:
        self.file.close()


class XlsxWriter:
    """openpyxl's write-only workbook: each row goes to a temporary file as it is written."""

    extension = "xlsx"
    FORMATS = {MONEY: MONEY_FORMAT, RATE: RATE_FORMAT, DAY: DATE_FORMAT, MOMENT: DATETIME_FORMAT}

    def __init__(self, path: Path, *, title: str, columns: list[Column]):
        self.path = path
        self.workbook = Workbook(write_only=True)
        # A sheet title may not hold []:*?/\ and has at most 31 characters.
        self.sheet = self.workbook.create_sheet(title=title.translate(str.maketrans("", "", "[]:*?/\\"))[:31])
        self.columns = columns
        self.formats = [self.FORMATS.get(column.kind) for column in columns]
        for index, column in enumerate(columns, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = column.width
        self.sheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self.sheet, value=safe_text(column.header))
            cell.font = bold
            header.append(cell)
        self.sheet.append(header)

    def write(self, values: list) -> None:
        row = []
        for number_format, value in zip(self.formats, values, strict=True):
            if number_format and value is not None:
                cell = WriteOnlyCell(self.sheet, value=value)
                cell.number_format = number_format
                row.append(cell)
            else:
                row.append(value)
        self.sheet.append(row)

    def close(self) -> None:
        self.workbook.save(self.path)


WRITERS = {ExportFormat.CSV: CsvWriter, ExportFormat.XLSX: XlsxWriter}
