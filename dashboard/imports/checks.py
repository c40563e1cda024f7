"""Checking rows: each cell parsed and validated, then the file checked across its rows (duplicates) and against
LoanTrack (natural keys present, borrowers in scope, the product's rules for a migrated loan). Reads only."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from accounts.models import Branch
from accounts.permissions import holders_of, in_scope, sees_all_branches
from accounts.roles import Role
from applications.models import Borrower, BorrowerKind, IdentityType, Product, identity_lookup_hash
from applications.services import IDENTITY_VALIDATORS
from core.dates import local_today
from core.identity import birth_date_from_resident_id, validate_mobile
from core.money import round_money
from postloan.models import Contract
from postloan.services.migration import clean_contract_number, loan_import_problems

from ..models import ImportJob, ImportKind
from .columns import BORROWER_DETAIL_KEYS, CHOICES, choice_names, norm
from .files import SheetRow

# Excel keeps numbers as binary floats: above 2^53 their last digits are gone (an 18-digit identity number).
_EXACT_FLOAT_LIMIT = 2**53
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")


# --- one row: parsing the cells -------------------------------------------------------------------------------------
class _Cells:
    """Typed values of one row's cells; each problem is noted once, by column, as a message for the uploader."""

    def __init__(self, row: SheetRow):
        self.row = row
        self.errors: dict[str, str] = {}

    def error(self, key: str, message) -> None:
        self.errors.setdefault(key, str(message))

    def filled(self, key: str) -> bool:
        value = self.row.values.get(key)
        return value is not None and str(value).strip() != ""

    def text(self, key: str, *, required: bool = False, max_length: int = 300) -> str:
        value = self.row.values.get(key)
        if isinstance(value, float):
            if not value.is_integer() or abs(value) >= _EXACT_FLOAT_LIMIT:
                self.error(key, _("Excel stored this as a number and lost digits: format the column as text."))
                return ""
            value = int(value)
        if isinstance(value, datetime | date):
            value = value.strftime("%Y-%m-%d")
        text = "" if value is None else str(value).strip()
        if required and not text:
            self.error(key, _("Fill in this column."))
        elif len(text) > max_length:
            self.error(key, _("At most %(count)s characters, please.") % {"count": max_length})
        return text

    def decimal(self, key: str, *, required: bool = False, default: Decimal | None = None) -> Decimal | None:
        value = self.row.values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(key, _("Fill in this column."))
            return default
        if isinstance(value, bool | datetime | date):
            self.error(key, _("Enter a number, e.g. 1234.56."))
            return None
        # A float cell becomes the shortest decimal that reads back as it (0.1 is "0.1", not 0.1000000000000000055).
        text = repr(value) if isinstance(value, float) else str(value)
        text = text.strip().replace(",", "").replace("，", "").replace("¥", "").replace("%", "").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            self.error(key, _("Enter a number, e.g. 1234.56."))
            return None
        if not number.is_finite():
            self.error(key, _("Enter a number, e.g. 1234.56."))
            return None
        return number

    def money(self, key: str, *, required: bool = False, default: Decimal | None = None) -> Decimal | None:
        number = self.decimal(key, required=required, default=default)
        if number is None or key in self.errors:
            return number
        if number < 0 or round_money(number) != number:
            self.error(key, _("Enter an amount in yuan with at most two decimals, e.g. 1234.56."))
            return None
        return round_money(number)

    def integer(self, key: str, *, required: bool = False, default: int | None = None) -> int | None:
        number = self.decimal(key, required=required)
        if key in self.errors:
            return None
        if number is None:
            return default
        if number != number.to_integral_value() or number < 0:
            self.error(key, _("Enter a whole number."))
            return None
        return int(number)

    def day(self, key: str, *, required: bool = False) -> date | None:
        value = self.row.values.get(key)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = "" if value is None else str(value).strip()
        if not text:
            if required:
                self.error(key, _("Fill in this column."))
            return None
        match = _DATE_RE.fullmatch(text) or _COMPACT_DATE_RE.fullmatch(text)
        if match:
            try:
                return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                pass
        self.error(key, _("Enter a real date as YYYY-MM-DD."))
        return None

    def choice(self, key: str, names: dict[str, str], *, required: bool = False, default: str = "") -> str:
        text = self.text(key, required=required)
        if not text:
            return default
        value = names.get(norm(text))
        if value is None:
            choices = CHOICES[key][0]
            self.error(
                key,
                _("Unknown value “%(value)s”; use one of: %(choices)s.")
                % {"value": text, "choices": ", ".join(choice for choice, _label in choices)},
            )
        return value or ""


# --- one row: what it means -----------------------------------------------------------------------------------------
@dataclass
class RowCheck:
    number: int
    errors: dict[str, str] = field(default_factory=dict)  # column key → message
    identity: tuple[str, str] | None = None  # (identity type, normalised number) when valid
    borrower: dict | None = None  # the borrower's details when the row gives them (and they are valid)
    branch: Branch | None = None
    loan: dict | None = None  # the loan's terms (loans only)
    present: bool = False  # its natural key is already in LoanTrack: it will be skipped

    @property
    def valid(self) -> bool:
        return not self.errors


class Checker:
    """Checks the rows of one job against the file itself and against LoanTrack (read only)."""

    def __init__(self, job: ImportJob):
        self.kind = job.kind
        self.user = job.uploaded_by
        self.today = local_today()
        self.branches = {branch.code.casefold(): branch for branch in Branch.objects.filter(is_active=True)}
        self.products = {product.code.casefold(): product for product in Product.objects.all()}
        self.officers = {user.username: user for user in holders_of(Role.OFFICER).select_related("branch")}
        self.names = {key: choice_names(key) for key in CHOICES}

    # -- cells
    def _branch(self, cells: _Cells) -> Branch | None:
        code = cells.text("branch_code", max_length=16)
        if not code:
            branch = self.user.branch
            if branch is None:
                cells.error("branch_code", _("There is no branch with this code."))
            return branch
        branch = self.branches.get(code.casefold())
        if branch is None:
            cells.error("branch_code", _("There is no branch with this code."))
        elif not sees_all_branches(self.user) and branch.pk != self.user.branch_id:
            cells.error("branch_code", _("You may import only into your own branch."))
            return None
        return branch

    def _identity(self, cells: _Cells, kind: str) -> tuple[str, str] | None:
        default = IdentityType.USCC if kind == BorrowerKind.COMPANY else IdentityType.RESIDENT_ID
        identity_type = cells.choice("identity_type", self.names["identity_type"], default=default)
        number = cells.text("identity_number", required=True, max_length=40)
        if "identity_type" in cells.errors or "identity_number" in cells.errors:
            return None
        try:
            return identity_type, IDENTITY_VALIDATORS[identity_type](number)
        except ValidationError as error:
            cells.error("identity_number", " ".join(error.messages))
            return None

    def _borrower(self, cells: _Cells, kind: str, identity: tuple[str, str] | None) -> dict:
        need = self.kind == ImportKind.BORROWERS or any(cells.filled(key) for key in BORROWER_DETAIL_KEYS)
        if need and not kind and "kind" not in cells.errors:
            cells.error("kind", _("Fill in this column."))
        details = {
            "kind": kind,
            "name": cells.text("name", required=need, max_length=200),
            "legal_representative": cells.text("legal_representative", max_length=100),
            "birth_date": cells.day("birth_date"),
            "mobile": cells.text("mobile", required=need, max_length=20),
            "email": cells.text("email", max_length=254),
            "address": cells.text("address", required=need, max_length=300),
            "employer": cells.text("employer", max_length=200),
            "monthly_income": cells.money("monthly_income", required=need),
            "monthly_debt_payments": cells.money("monthly_debt_payments", default=Decimal("0.00")),
            "years_at_job": cells.integer("years_at_job", default=0),
        }
        if details["mobile"] and "mobile" not in cells.errors:
            try:
                details["mobile"] = validate_mobile(details["mobile"])
            except ValidationError as error:
                cells.error("mobile", " ".join(error.messages))
        if details["email"] and "email" not in cells.errors:
            try:
                validate_email(details["email"])
            except ValidationError:
                cells.error("email", _("Enter a valid email address."))
        if details["years_at_job"] is not None and details["years_at_job"] > 80:
            cells.error("years_at_job", _("Enter a whole number."))
        # The rules of the borrower form (applications.forms.BorrowerForm.clean).
        is_company = kind == BorrowerKind.COMPANY
        if identity is not None and kind:
            identity_type = identity[0]
            if is_company and identity_type != IdentityType.USCC:
                cells.error("identity_type", _("A company is identified by its unified social credit code."))
            elif not is_company and identity_type == IdentityType.USCC:
                cells.error(
                    "identity_type", _("A person is identified by a resident identity card or a passport, not a USCC.")
                )
            elif identity_type == IdentityType.RESIDENT_ID:
                details["birth_date"] = birth_date_from_resident_id(identity[1])
            elif identity_type == IdentityType.PASSPORT and not details["birth_date"] and need:
                cells.error("birth_date", _("Enter the date of birth shown in the passport."))
        if is_company:
            details["birth_date"] = None
            if need and not details["legal_representative"]:
                cells.error("legal_representative", _("Enter the company's legal representative."))
        else:
            details["legal_representative"] = ""
        return details if need else {}

    def _loan(self, cells: _Cells, branch: Branch | None) -> dict:
        terms: dict[str, Any] = {}
        number = cells.text("contract_number", required=True, max_length=40)
        if number:
            try:
                terms["contract_number"] = clean_contract_number(number)
            except ValidationError as error:
                cells.error("contract_number", " ".join(error.messages))
        code = cells.text("product_code", required=True, max_length=32)
        terms["product"] = self.products.get(code.casefold()) if code else None
        if code and terms["product"] is None:
            cells.error("product_code", _("There is no product with this code."))
        username = cells.text("officer_username", required=True, max_length=150)
        officer = self.officers.get(username)
        if username and (officer is None or (branch is not None and officer.branch_id != branch.pk)):
            cells.error(
                "officer_username",
                _("There is no active loan officer with the user name “%(name)s” in %(branch)s.")
                % {"name": username, "branch": branch or "—"},
            )
        terms["officer"] = officer
        terms["principal"] = cells.decimal("principal", required=True)
        terms["annual_rate"] = cells.decimal("annual_rate", required=True)
        terms["term_months"] = cells.integer("term_months", required=True)
        terms["method"] = cells.choice("method", self.names["method"], required=True)
        terms["disbursed_on"] = cells.day("disbursed_on", required=True)
        terms["first_due_date"] = cells.day("first_due_date", required=True)
        terms["paid_installments"] = cells.integer("paid_installments", default=0)
        terms["purpose"] = cells.text("purpose", max_length=300)
        return terms

    def _loan_rules(self, check: RowCheck, cells: _Cells, borrower_kind: str | None) -> None:
        """The product's ranges, the dates and the paid installments: postloan's rules for a migrated loan."""
        terms = check.loan
        needed = ("product", "principal", "annual_rate", "term_months", "method", "disbursed_on", "first_due_date")
        if any(terms.get(key) is None or terms.get(key) == "" for key in needed) or terms["paid_installments"] is None:
            return
        problems = loan_import_problems(
            product=terms["product"],
            borrower_kind=borrower_kind,
            principal=terms["principal"],
            annual_rate=terms["annual_rate"],
            term_months=terms["term_months"],
            method=terms["method"],
            disbursed_on=terms["disbursed_on"],
            first_due_date=terms["first_due_date"],
            paid_installments=terms["paid_installments"],
            today=self.today,
        )
        for key, message in problems.items():
            cells.error(key, message)

    # -- the file
    def check(self, rows: list[SheetRow]) -> list[RowCheck]:
        checks, cells_of = [], {}
        for row in rows:
            cells = _Cells(row)
            kind = cells.choice("kind", self.names["kind"], required=self.kind == ImportKind.BORROWERS)
            check = RowCheck(row.number)
            check.branch = self._branch(cells)
            check.identity = self._identity(cells, kind)
            check.borrower = self._borrower(cells, kind, check.identity)
            if self.kind == ImportKind.LOANS:
                check.loan = self._loan(cells, check.branch)
            checks.append(check)
            cells_of[row.number] = cells
        self._across_rows(checks, cells_of)
        self._against_loantrack(checks, cells_of)
        for check in checks:
            check.errors = cells_of[check.number].errors
        return checks

    def _across_rows(self, checks: list[RowCheck], cells_of: dict[int, _Cells]) -> None:
        """Duplicates inside the file: a contract number twice, or one identity with two sets of details."""
        first_contract: dict[str, int] = {}
        first_details: dict[tuple[str, str], tuple[int, dict]] = {}
        for check in checks:
            cells = cells_of[check.number]
            if check.loan and check.loan.get("contract_number"):
                number = check.loan["contract_number"]
                if number in first_contract:
                    cells.error(
                        "contract_number",
                        _("This contract number is already on row %(row)s.") % {"row": first_contract[number]},
                    )
                else:
                    first_contract[number] = check.number
            if check.identity is None or not check.borrower:
                continue
            # A borrower's details, and in the borrowers file their branch; a loans file may book one borrower's
            # loans in several branches.
            details = dict(check.borrower)
            if self.kind == ImportKind.BORROWERS:
                details["branch"] = check.branch.pk if check.branch else None
            earlier = first_details.get(check.identity)
            if earlier is None:
                first_details[check.identity] = (check.number, details)
            elif earlier[1] != details:
                cells.error(
                    "identity_number",
                    _("The same identity number is on row %(row)s with different details.") % {"row": earlier[0]},
                )

    def _against_loantrack(self, checks: list[RowCheck], cells_of: dict[int, _Cells]) -> None:
        """Which natural keys exist already (in batches, nothing decrypted), and loans' borrowers and products."""
        hashes = {
            check.identity: identity_lookup_hash(*check.identity) for check in checks if check.identity is not None
        }
        existing = {}
        by_type: dict[str, set[str]] = {}
        for (identity_type, _number), value in hashes.items():
            by_type.setdefault(identity_type, set()).add(value)
        for identity_type, values in by_type.items():
            values = sorted(values)
            for start in range(0, len(values), 1000):
                # (identity_type, identity_hash) is the unique index borrower_identity_unique.
                found = Borrower.objects.filter(
                    identity_type=identity_type, identity_hash__in=values[start : start + 1000]
                ).only("pk", "identity_type", "identity_hash", "kind", "branch_id")
                for borrower in found:
                    existing[(borrower.identity_type, borrower.identity_hash)] = borrower
        known_contracts: set[str] = set()
        if self.kind == ImportKind.LOANS:
            numbers = list({check.loan["contract_number"] for check in checks if check.loan.get("contract_number")})
            for start in range(0, len(numbers), 1000):
                chunk = numbers[start : start + 1000]
                known_contracts |= set(Contract.objects.filter(number__in=chunk).values_list("number", flat=True))
        in_file = details_in_file(checks)
        for check in checks:
            cells = cells_of[check.number]
            borrower = None
            if check.identity is not None:
                borrower = existing.get((check.identity[0], hashes[check.identity]))
            if self.kind == ImportKind.BORROWERS:
                check.present = borrower is not None
                continue
            check.present = check.loan.get("contract_number") in known_contracts
            borrower_kind = None
            if borrower is not None:
                if not in_scope(self.user, borrower):
                    cells.error("identity_number", _("This borrower belongs to another branch."))
                borrower_kind = borrower.kind
            elif check.identity is not None:
                details = check.borrower or in_file.get(check.identity)
                if not details:
                    cells.error(
                        "identity_number",
                        _(
                            "No borrower with this identity number is in LoanTrack or in this file: fill in the "
                            "borrower's details."
                        ),
                    )
                else:
                    borrower_kind = details["kind"]
            self._loan_rules(check, cells, borrower_kind)


def details_in_file(checks: list[RowCheck]) -> dict:
    """Identity → the first details the file gives for that borrower (a loan row may leave them to another row)."""
    details = {}
    for check in checks:
        if check.identity is not None and check.borrower and check.identity not in details:
            details[check.identity] = check.borrower
    return details
