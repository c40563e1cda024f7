"""Reading an uploaded .xlsx or .csv file into rows of {column key: cell value}, headers matched in either language."""

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .columns import COLUMNS, REQUIRED, in_every_language, norm

MAX_ROWS = 20_000
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_FORMATS = ("xlsx", "csv")


# --- reading files --------------------------------------------------------------------------------------------------
class FileProblem(Exception):
    """The file as a whole cannot be read; the message is for the uploader (already translated)."""


@dataclass
class SheetRow:
    number: int  # as the spreadsheet numbers it: the header is row 1
    values: dict[str, Any]


def _decode_csv(data: bytes) -> str:
    # Excel saves "CSV UTF-8" with a byte order mark; a Chinese Excel's plain "CSV" is GB18030 (a superset of GBK).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem(_("The CSV file is neither UTF-8 nor GB18030 text. Save it again as “CSV UTF-8”."))


def _csv_records(data: bytes) -> Iterator[list[Any]]:
    yield from csv.reader(io.StringIO(_decode_csv(data), newline=""))


def _xlsx_records(data: bytes) -> Iterator[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise FileProblem(_("This is not an Excel workbook (.xlsx) that LoanTrack can read.")) from None
    try:
        # The data are on the first sheet; the template's second sheet explains the columns.
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(values)
    finally:
        workbook.close()


def _match_headers(kind: str, headers: list[Any]) -> dict[int, str]:
    """Position → column key, from the header row in either language or as English key names."""
    names: dict[str, str] = {}
    for column in COLUMNS[kind]:
        for name in {norm(column.key), *in_every_language(column.label)}:
            names[name] = column.key
    positions: dict[int, str] = {}
    unknown = []
    for position, header in enumerate(headers):
        text = str(header).strip() if header is not None else ""
        if not text:
            continue
        key = names.get(norm(text))
        if key is None:
            unknown.append(text)
        elif key in positions.values():
            raise FileProblem(_("The column “%(column)s” appears twice.") % {"column": text})
        else:
            positions[position] = key
    if unknown:
        raise FileProblem(
            _("These columns are not in the template: %(columns)s. Use the headers of the template.")
            % {"columns": ", ".join(f"“{name}”" for name in unknown)}
        )
    missing = [
        column.header for column in COLUMNS[kind] if column.need == REQUIRED and column.key not in positions.values()
    ]
    if missing:
        raise FileProblem(
            _("These required columns are missing: %(columns)s.")
            % {"columns": ", ".join(f"“{name}”" for name in missing)}
        )
    return positions


def read_rows(kind: str, data: bytes, file_name: str) -> list[SheetRow]:
    """The file's rows as {column key: cell value}, skipping empty rows; FileProblem when it cannot be used."""
    records = _xlsx_records(data) if file_name.lower().endswith(".xlsx") else _csv_records(data)
    positions: dict[int, str] | None = None
    rows: list[SheetRow] = []
    try:
        for number, record in enumerate(records, start=1):
            if positions is None:
                if not any(value not in (None, "") for value in record):
                    raise FileProblem(_("The first row must hold the column headers, as in the template."))
                positions = _match_headers(kind, record)
                continue
            values = {key: record[position] for position, key in positions.items() if position < len(record)}
            if all(value is None or str(value).strip() == "" for value in values.values()):
                continue
            rows.append(SheetRow(number, values))
            if len(rows) > MAX_ROWS:
                raise FileProblem(
                    _("The file has more than %(count)s rows; split it into smaller files.") % {"count": MAX_ROWS}
                )
    except csv.Error:
        raise FileProblem(_("The CSV file is malformed; save it again from the spreadsheet.")) from None
    if positions is None:
        raise FileProblem(_("The file is empty."))
    return rows
