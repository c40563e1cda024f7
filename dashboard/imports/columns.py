"""The columns of the two templates, defined once: the downloadable files, the header matching, the row checks and
the page that documents the templates all read them; and the names a choice may be written with."""

import csv
import io
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from applications.models import BorrowerKind, IdentityType
from core.schedules import ScheduleMethod

from ..models import ImportKind

REQUIRED, OPTIONAL, NEW_BORROWER = "required", "optional", "new_borrower"
NEED_LABELS = {
    REQUIRED: gettext_lazy("Required"),
    OPTIONAL: gettext_lazy("Optional"),
    NEW_BORROWER: gettext_lazy("Required for a new borrower"),
}


# --- the columns ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str  # the English key name, accepted as a header too
    label: Promise  # lower case, as a verbose_name; headers show it with a capital
    format: Promise
    example: str
    need: str = OPTIONAL
    text: bool = False  # kept as text in the template, so Excel does not turn 0-leading or long numbers into floats

    @property
    def header(self) -> str:
        return capfirst(str(self.label))

    @property
    def need_label(self) -> str:
        return str(NEED_LABELS[self.need])


def _borrower_columns(detail_need: str) -> list[Column]:
    """The borrower's details; in the loans template they are needed only for a borrower new to LoanTrack."""
    return [
        Column(
            "kind",
            gettext_lazy("borrower type"),
            gettext_lazy("individual, sole_proprietor or company"),
            "individual",
            detail_need,
        ),
        Column("name", gettext_lazy("name"), gettext_lazy("As on the identity document."), "李明", detail_need),
        Column(
            "birth_date",
            gettext_lazy("date of birth"),
            gettext_lazy("YYYY-MM-DD; needed with a passport (a resident identity number carries its own)."),
            "1985-03-07",
        ),
        Column(
            "legal_representative",
            gettext_lazy("legal representative"),
            gettext_lazy("Companies only, and needed for them."),
            "",
        ),
        Column(
            "mobile",
            gettext_lazy("mobile number"),
            gettext_lazy("11 digits starting with 13 to 19."),
            "13800138000",
            detail_need,
            text=True,
        ),
        Column("email", gettext_lazy("email"), gettext_lazy("An email address."), "li.ming@example.com"),
        Column(
            "address",
            gettext_lazy("address"),
            gettext_lazy("Up to 300 characters."),
            "北京市朝阳区建国路1号",
            detail_need,
        ),
        Column(
            "employer",
            gettext_lazy("employer or business"),
            gettext_lazy("Up to 200 characters."),
            "北京某某科技有限公司",
        ),
        Column(
            "monthly_income",
            gettext_lazy("monthly income (yuan)"),
            gettext_lazy("Yuan, at most two decimals."),
            "30000.00",
            detail_need,
        ),
        Column(
            "monthly_debt_payments",
            gettext_lazy("existing monthly debt payments (yuan)"),
            gettext_lazy("Yuan, at most two decimals; empty means 0."),
            "2000.00",
        ),
        Column(
            "years_at_job",
            gettext_lazy("years at job or business"),
            gettext_lazy("Whole years; empty means 0."),
            "5",
        ),
    ]


_IDENTITY_COLUMNS = [
    Column(
        "identity_type",
        gettext_lazy("identity type"),
        gettext_lazy("resident_id, passport or uscc; empty means resident_id (uscc for a company)."),
        "resident_id",
    ),
    Column(
        "identity_number",
        gettext_lazy("identity number"),
        gettext_lazy("18 characters for a resident identity card or a unified social credit code."),
        "110101198503070013",
        REQUIRED,
        text=True,
    ),
]
_BRANCH_COLUMN = Column(
    "branch_code",
    gettext_lazy("branch code"),
    gettext_lazy("The branch's code; empty means your own branch."),
    "BJ",
    text=True,
)
_LOAN_COLUMNS = [
    Column(
        "contract_number",
        gettext_lazy("contract number"),
        gettext_lazy("Up to 20 letters or digits (and - _ / .); unique."),
        "JK-2024-0001",
        REQUIRED,
        text=True,
    ),
    Column(
        "product_code",
        gettext_lazy("product code"),
        gettext_lazy("The code of a LoanTrack product."),
        "CONSUMER",
        REQUIRED,
        text=True,
    ),
    _BRANCH_COLUMN,
    Column(
        "officer_username",
        gettext_lazy("loan officer (user name)"),
        gettext_lazy("The user name of a loan officer of the branch."),
        "wangfang",
        REQUIRED,
        text=True,
    ),
    Column(
        "principal",
        gettext_lazy("principal (yuan)"),
        gettext_lazy("Within the product's amount range."),
        "100000.00",
        REQUIRED,
    ),
    Column(
        "annual_rate",
        gettext_lazy("annual rate (%)"),
        gettext_lazy("Percent per year, e.g. 4.35; within the product's range."),
        "4.35",
        REQUIRED,
    ),
    Column("term_months", gettext_lazy("term (months)"), gettext_lazy("Within the product's range."), "12", REQUIRED),
    Column(
        "method",
        gettext_lazy("repayment method"),
        gettext_lazy("equal_installment, equal_principal, interest_first or bullet; one the product offers."),
        "equal_installment",
        REQUIRED,
    ),
    Column(
        "disbursed_on",
        gettext_lazy("disbursed on"),
        gettext_lazy("YYYY-MM-DD, not in the future."),
        "2024-03-15",
        REQUIRED,
    ),
    Column(
        "first_due_date",
        gettext_lazy("first due date"),
        gettext_lazy("YYYY-MM-DD, after the disbursement and within two months of it."),
        "2024-04-15",
        REQUIRED,
    ),
    Column(
        "paid_installments",
        gettext_lazy("installments already paid"),
        gettext_lazy("How many installments, from the first, were paid in full; empty means 0."),
        "3",
    ),
    Column("purpose", gettext_lazy("purpose"), gettext_lazy("Up to 300 characters."), "装修"),
]

COLUMNS: dict[str, list[Column]] = {
    ImportKind.BORROWERS: [_BRANCH_COLUMN, *_IDENTITY_COLUMNS, *_borrower_columns(REQUIRED)],
    ImportKind.LOANS: [*_IDENTITY_COLUMNS, *_LOAN_COLUMNS, *_borrower_columns(NEW_BORROWER)],
}
BORROWER_DETAIL_KEYS = tuple(column.key for column in _borrower_columns(OPTIONAL))


def column_label(kind: str, key: str) -> str:
    """The (translated) label of a column, or the key itself for one the template does not have."""
    return next((str(column.label) for column in COLUMNS.get(kind, []) if column.key == key), key)


# --- choices: keys, labels in every language, and the names people use in Chinese ------------------------------
CHOICES: dict[str, tuple[list[tuple[str, Promise]], dict[str, str]]] = {
    "kind": (
        BorrowerKind.choices,
        {
            "个人": "individual",
            "个体工商户": "sole_proprietor",
            "个体户": "sole_proprietor",
            "企业": "company",
            "公司": "company",
        },
    ),
    "identity_type": (
        IdentityType.choices,
        {"身份证": "resident_id", "居民身份证": "resident_id", "护照": "passport", "统一社会信用代码": "uscc"},
    ),
    "method": (
        ScheduleMethod.choices,
        {
            "等额本息": "equal_installment",
            "等额本金": "equal_principal",
            "先息后本": "interest_first",
            "一次性还本付息": "bullet",
        },
    ),
}


_SEPARATORS_RE = re.compile(r"[\s_\-]+")


def norm(text: str) -> str:
    return _SEPARATORS_RE.sub("", str(text).casefold())


def in_every_language(lazy_text) -> set[str]:
    names = set()
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            names.add(norm(str(lazy_text)))
    return names


def choice_names(key: str) -> dict[str, str]:
    choices, aliases = CHOICES[key]
    names = {norm(alias): value for alias, value in aliases.items()}
    for value, label in choices:
        for name in {norm(value), *in_every_language(label)}:
            names[name] = value
    return names


# --- the template ---------------------------------------------------------------------------------------------------
def template_filename(kind: str, file_format: str) -> str:
    return f"loantrack-{kind}-template.{file_format}"


def template_file(kind: str, file_format: str) -> bytes:
    """The empty template in the current language: headers only (CSV: UTF-8 with a byte order mark, which Excel
    needs to show Chinese), or a workbook whose second sheet explains each column."""
    columns = COLUMNS[kind]
    if file_format == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerow([column.header for column in columns])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(ImportKind(kind).label)[:31]
    sheet.append([column.header for column in columns])
    for position, column in enumerate(columns, start=1):
        letter = get_column_letter(position)
        sheet.cell(row=1, column=position).font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(14, len(column.header) + 4)
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    notes = workbook.create_sheet(str(_("Instructions"))[:31])
    notes.append([str(_("Column")), str(_("Required")), str(_("Format")), str(_("Example"))])
    for position in range(1, 5):
        notes.cell(row=1, column=position).font = Font(bold=True)
    for column in columns:
        notes.append([column.header, column.need_label, str(column.format), column.example])
    for letter, width in zip("ABCD", (28, 24, 70, 24), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
