"""Bulk import of borrowers and loans: the template round-trips, the dry run reports exactly the bad rows (and writes
nothing), the import creates what a disbursement creates, a second run adds nothing, a failing row leaves nothing
behind, a crashed run resumes, and a branch manager imports only into their branch. What was paid before the
migration is one opening repayment that a later reversal leaves alone and that cannot be reversed itself; the sweep
sends lost jobs again."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg2
import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from accounts.models import User
from applications import portal as portal_services
from applications.models import Application, ApplicationEvent, ApplicationStatus, Borrower, identity_lookup_hash
from core.models import DocumentSequence
from core.schedules import build_schedule
from dashboard import imports
from dashboard import tasks as dashboard_tasks
from dashboard.imports import COLUMNS, import_check, import_run, import_start, jobs, template_file
from dashboard.imports.columns import BORROWER_DETAIL_KEYS, norm
from dashboard.models import ImportJob, ImportStatus
from followups.models import FollowUp
from loantrack.celery import app as celery_app
from postloan import services as postloan_services
from postloan.models import (
    Allocation,
    Contract,
    ContractStatus,
    Disbursement,
    Installment,
    Loan,
    LoanEvent,
    Repayment,
    RepaymentReversal,
    TransitionError,
)
from postloan.services import migration
from tests.applications.factories import RESIDENT_IDS, make_borrower, make_product
from tests.postloan.factories import on

from .import_factories import (
    borrower_row,
    csv_file,
    loan_row,
    make_job,
    resident_id,
    uscc,
    with_bad_check_digit,
    xlsx_from_template,
)

TODAY = date(2026, 6, 20)


@pytest.fixture(autouse=True)
def _today():
    with on(TODAY):
        yield


def _checked(job: ImportJob) -> ImportJob:
    import_check(job_id=job.pk)
    job.refresh_from_db()
    return job


def _imported(job: ImportJob) -> ImportJob:
    job = _checked(job)
    assert job.status == ImportStatus.CHECKED, job.error
    assert import_start(job=job, by=job.uploaded_by)
    import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def _borrower(number: str, identity_type: str = "resident_id") -> Borrower:
    return Borrower.objects.get(identity_type=identity_type, identity_hash=identity_lookup_hash(identity_type, number))


def _messages(job: ImportJob) -> dict[int, str]:
    rows = [entry["row"] for entry in job.errors]
    assert len(rows) == len(set(rows)), job.errors  # one message per bad row in these tests
    return {entry["row"]: entry["message"] for entry in job.errors}


def _allocations(repayment: Repayment) -> list[tuple]:
    """(installment number, penalty, interest, principal) of a repayment's active allocation rows."""
    rows = Allocation.objects.filter(repayment=repayment, is_active=True).order_by("installment__number")
    return [(row.installment.number, row.penalty, row.interest, row.principal) for row in rows]


def _imported_loan(manager, **row) -> Loan:
    """JK-00001 (¥100,001.00 at 6 %, 12 months from 10 Feb 2026) imported from a file, 3 installments paid."""
    job = _imported(make_job(manager, "loans", csv_file("loans", [loan_row(1, paid_installments="3") | row]), "a.csv"))
    assert job.rows_created == 1, job.errors
    return Loan.objects.get(number="JK-00001")


def _paid_state(loan: Loan) -> list[tuple]:
    return [(item.number, item.status, item.paid_on) for item in loan.current_installments()]


def _without_details(row: dict) -> dict:
    """A loan row that names its borrower by identity number only."""
    return {key: value for key, value in row.items() if key not in BORROWER_DETAIL_KEYS}


# --- the template round-trips --------------------------------------------------------------------------------------
def test_the_borrower_template_round_trips_through_excel(staff, branches):
    manager = staff["manager"]
    workbook = load_workbook(io.BytesIO(template_file("borrowers", "xlsx")))
    assert [cell.value for cell in workbook.worksheets[0][1]] == [column.header for column in COLUMNS["borrowers"]]
    assert workbook.worksheets[1]["A2"].value == "Branch code"  # the second sheet explains every column
    person = borrower_row(1, name="李明", monthly_income="28500.50", years_at_job="7")
    company = borrower_row(
        2,
        kind="company",
        name="北京某某贸易有限公司",
        identity_type="uscc",
        identity_number=uscc(2),
        legal_representative="王强",
        mobile="+86 139 0000 0002",
    )
    data = xlsx_from_template("borrowers", [person, company])

    job = _imported(make_job(manager, "borrowers", data, "borrowers.xlsx"))

    assert (job.status, job.rows_total, job.rows_valid, job.rows_created, job.rows_skipped) == ("done", 2, 2, 2, 0)
    li = _borrower(resident_id(1))
    assert (li.name, li.mobile, li.monthly_income, li.years_at_job) == ("李明", "13900000001", Decimal("28500.50"), 7)
    assert (li.branch, li.created_by, li.kind, li.birth_date) == (
        branches["BJ"],
        manager,
        "individual",
        date(1970, 1, 1),
    )
    assert li.identity_number == resident_id(1)  # stored encrypted, read back whole
    assert li.identity_masked == resident_id(1)[:6] + "********" + resident_id(1)[-4:]
    firm = _borrower(uscc(2), "uscc")
    assert (firm.kind, firm.legal_representative, firm.mobile, firm.birth_date) == (
        "company",
        "王强",
        "13900000002",
        None,
    )


def test_the_loan_template_round_trips_through_csv_and_the_loan_is_what_a_disbursement_makes(
    staff, product, django_capture_on_commit_callbacks
):
    manager = staff["manager"]
    existing = make_borrower(staff["officer"], number=RESIDENT_IDS[1])
    template = template_file("loans", "csv").decode("utf-8-sig").splitlines()
    assert template == [",".join(column.header for column in COLUMNS["loans"])]
    new = loan_row(1, paid_installments="3", purpose="经营周转")
    # A borrower already in LoanTrack needs only the identity number.
    known = _without_details(loan_row(2, method="equal_principal")) | {"identity_number": RESIDENT_IDS[1]}
    with django_capture_on_commit_callbacks(execute=True):
        job = _imported(make_job(manager, "loans", csv_file("loans", [new, known]), "loans.csv"))

    assert (job.status, job.rows_valid, job.rows_created, job.errors) == ("done", 2, 2, [])
    loan = Loan.objects.get(number="JK-00001")
    assert (loan.principal, loan.annual_rate, loan.term_months, loan.method) == (
        Decimal("100001.00"),
        Decimal("6.0000"),
        12,
        "equal_installment",
    )
    assert (loan.disbursed_on, loan.maturity_date, loan.officer, loan.branch) == (
        date(2026, 1, 10),
        date(2027, 1, 10),
        staff["officer"],
        staff["manager"].branch,
    )
    schedule = build_schedule(
        principal=Decimal("100001.00"),
        annual_rate=Decimal("6.00"),
        term_months=12,
        method="equal_installment",
        first_due_date=date(2026, 2, 10),
    )
    installments = list(loan.current_installments())
    assert [(i.number, i.due_date, i.principal_due, i.interest_due) for i in installments] == [
        (row.number, row.due_date, row.principal, row.interest) for row in schedule
    ]
    assert [i.status for i in installments] == ["paid"] * 3 + ["pending"] * 9
    assert [i.paid_on for i in installments[:3]] == [date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 10)]
    assert loan.outstanding_principal == Decimal("100001.00") - sum(row.principal for row in schedule[:3])
    assert (loan.next_due_date, loan.next_due_amount) == (date(2026, 5, 10), schedule[3].total)
    # No penalty for what fell due before the import; the sweep starts counting from today.
    assert loan.penalty_accrued_through == TODAY
    # What was paid before the migration is one repayment (3 × ¥8,606.73), allocated like any other.
    opening = Repayment.objects.get(loan=loan)
    assert (opening.reference, opening.amount, opening.paid_on, opening.channel, opening.posted_by) == (
        "MIGRATED-JK-00001",
        Decimal("25820.19"),
        date(2026, 4, 10),
        "migrated",
        manager,
    )
    assert opening.get_channel_display() == "Paid before migration to LoanTrack"
    assert _allocations(opening) == [
        (1, Decimal("0.00"), Decimal("500.01"), Decimal("8106.72")),
        (2, Decimal("0.00"), Decimal("459.47"), Decimal("8147.26")),
        (3, Decimal("0.00"), Decimal("418.74"), Decimal("8187.99")),
    ]
    assert (loan.credit_balance, loan.outstanding_principal) == (Decimal("0.00"), Decimal("75559.03"))
    paid_note = LoanEvent.objects.get(loan=loan, kind=LoanEvent.Kind.NOTE)
    assert paid_note.data == {
        "import_job": job.pk,
        "paid_installments": 3,
        "repayment": opening.pk,
        "reference": "MIGRATED-JK-00001",
        "amount": "25820.19",
    }
    disbursed = LoanEvent.objects.get(loan=loan, kind=LoanEvent.Kind.DISBURSED)
    assert disbursed.data["migrated"] is True and disbursed.actor == manager

    contract, application = loan.contract, loan.contract.application
    assert (contract.status, contract.prepared_by, contract.confirmed_by) == (ContractStatus.SIGNED, manager, manager)
    assert (contract.repayment_day, contract.penalty_rate) == (10, Decimal("9.0000"))
    disbursement = Disbursement.objects.get(contract=contract)
    assert (disbursement.status, disbursement.bank_reference) == ("confirmed", "MIGRATED-JK-00001")
    assert (application.status, application.purpose, application.officer) == ("disbursed", "经营周转", staff["officer"])
    assert ApplicationEvent.objects.get(application=application).data["imported"] is True
    # loan_disbursed was sent: the follow-up plan exists, as for any disbursement.
    assert set(FollowUp.objects.filter(loan=loan).values_list("kind", flat=True)) >= {"first", "second", "pre_maturity"}

    second = Loan.objects.get(number="JK-00002")
    assert second.borrower == existing and Borrower.objects.count() == 2
    assert second.installments.filter(status="paid").count() == 2
    # Equal principal of ¥100,002.00: 2 × 8,333.50 principal, 500.01 + 458.34 interest.
    assert Repayment.objects.get(loan=second).amount == Decimal("17625.35")


# --- the 100-row file with 5 bad rows -------------------------------------------------------------------------------
BAD_ROWS = {
    7: "Row 7, identity number: The check digit does not match: this identity number has a typo.",
    23: "Row 23, product code: There is no product with this code.",
    41: "Row 41, principal (yuan): The amount must be between ¥10,000.00 and ¥500,000.00 for this product.",
    58: "Row 58, contract number: This contract number is already on row 2.",
    90: "Row 90, disbursed on: Enter a real date as YYYY-MM-DD.",
}


def hundred_rows() -> list[dict]:
    """100 loans of 100 new borrowers; file rows 7, 23, 41, 58 and 90 (the header is row 1) are bad."""
    rows = [loan_row(n) for n in range(1, 101)]
    rows[5]["identity_number"] = with_bad_check_digit(rows[5]["identity_number"])
    rows[21]["product_code"] = "NOPE"
    rows[39]["principal"] = "600000.00"
    rows[56]["contract_number"] = rows[0]["contract_number"]
    rows[88]["disbursed_on"] = "2026-02-30"
    return rows


@pytest.fixture
def hundred(staff, product):
    return xlsx_from_template("loans", hundred_rows())


def test_the_dry_run_reports_exactly_the_five_bad_rows_and_writes_nothing(staff, hundred):
    job = _checked(make_job(staff["manager"], "loans", hundred, "book.xlsx"))

    assert (job.status, job.rows_total, job.rows_valid, job.rows_invalid) == ("checked", 100, 95, 5)
    assert _messages(job) == BAD_ROWS
    assert [entry["column"] for entry in job.errors] == [
        "identity_number",
        "product_code",
        "principal",
        "contract_number",
        "disbursed_on",
    ]
    assert Borrower.objects.count() == 0
    assert Loan.objects.count() == Contract.objects.count() == Application.objects.count() == 0
    assert Installment.objects.count() == 0


def test_the_dry_run_writes_its_messages_in_the_uploaders_language(staff, hundred):
    job = _checked(make_job(staff["manager"], "loans", hundred, "book.xlsx", language="zh-hans"))

    messages = _messages(job)
    assert sorted(messages) == sorted(BAD_ROWS)
    for row, message in messages.items():
        assert message and str(row) in message
    with translation.override("zh-hans"):
        # The Chinese of the validators exists already: the identity number's message is not the English one.
        assert messages[7] != BAD_ROWS[7]
    assert Borrower.objects.count() == Loan.objects.count() == 0


def test_the_valid_rows_import_and_a_second_run_adds_nothing(staff, hundred):
    job = _imported(make_job(staff["manager"], "loans", hundred, "book.xlsx"))

    assert (job.status, job.rows_done, job.rows_created, job.rows_skipped, job.rows_invalid) == ("done", 95, 95, 0, 5)
    assert imports.import_percent(job) == 100
    assert Loan.objects.count() == Borrower.objects.count() == Application.objects.count() == 95
    assert Installment.objects.count() == 95 * 12
    bad_numbers = {"JK-00006", "JK-00022", "JK-00040", "JK-00089"}
    assert not Loan.objects.filter(number__in=bad_numbers).exists()
    for loan in Loan.objects.all():
        rows = build_schedule(
            principal=loan.principal,
            annual_rate=Decimal("6"),
            term_months=12,
            method="equal_installment",
            first_due_date=date(2026, 2, 10),
        )
        due = list(loan.current_installments().values_list("principal_due", "interest_due"))
        assert due == [(row.principal, row.interest) for row in rows], loan.number
        assert loan.outstanding_principal == loan.principal - rows[0].principal - rows[1].principal
    # JK-00001 is on row 2 and its duplicate on row 58 was refused: it is the first borrower's loan.
    assert Loan.objects.get(number="JK-00001").borrower == _borrower(resident_id(1))

    again = _imported(make_job(staff["manager"], "loans", hundred, "book-again.xlsx"))

    assert (again.status, again.rows_valid, again.rows_created, again.rows_skipped) == ("done", 95, 0, 95)
    assert Loan.objects.count() == Borrower.objects.count() == Application.objects.count() == 95
    assert Installment.objects.count() == 95 * 12 and Contract.objects.count() == 95


def test_a_row_that_fails_while_importing_leaves_nothing_and_the_others_import(staff, hundred, monkeypatch):
    real_loan_start = migration.loan_start

    def failing_loan_start(*, contract, **kwargs):
        if contract.number == "JK-00049":  # file row 50
            raise RuntimeError("the disk is full")
        return real_loan_start(contract=contract, **kwargs)

    monkeypatch.setattr(migration, "loan_start", failing_loan_start)
    job = _imported(make_job(staff["manager"], "loans", hundred, "book.xlsx"))

    assert (job.status, job.rows_done, job.rows_created, job.rows_invalid) == ("done", 95, 94, 6)
    assert _messages(job)[50] == "Row 50: This row could not be imported because of an unexpected error."
    # Row 50's borrower, application, contract and disbursement were written before the failure: all rolled back.
    assert not Borrower.objects.filter(identity_hash=identity_lookup_hash("resident_id", resident_id(49))).exists()
    assert not Contract.objects.filter(number="JK-00049").exists()
    assert not Disbursement.objects.filter(bank_reference="MIGRATED-JK-00049").exists()
    assert Loan.objects.count() == Borrower.objects.count() == Application.objects.count() == 94
    assert Contract.objects.count() == Disbursement.objects.count() == 94


def test_a_crashed_import_resumes_after_its_last_committed_chunk(staff, hundred, monkeypatch):
    monkeypatch.setitem(imports.CHUNK_ROWS, "loans", 10)
    job = _checked(make_job(staff["manager"], "loans", hundred, "book.xlsx"))
    assert import_start(job=job, by=job.uploaded_by)
    real_chunk = jobs._import_chunk
    calls = []

    def crashing_chunk(job, chunk, details, *, done_before):
        calls.append(done_before)
        if len(calls) == 3:
            raise OperationalError("server closed the connection unexpectedly")
        return real_chunk(job, chunk, details, done_before=done_before)

    monkeypatch.setattr(jobs, "_import_chunk", crashing_chunk)
    with pytest.raises(OperationalError):
        import_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_created) == ("running", 20, 20)
    assert Loan.objects.count() == 20

    import_run(job_id=job.pk)  # the task's retry

    job.refresh_from_db()
    assert calls[3] == 20  # resumed where the committed progress said
    assert (job.status, job.rows_done, job.rows_created, job.rows_skipped) == ("done", 95, 95, 0)
    assert Loan.objects.count() == 95
    assert import_run(job_id=job.pk).rows_created == 95  # a third delivery finds the job done and does nothing


def test_starting_twice_queues_once(staff, hundred):
    job = _checked(make_job(staff["manager"], "loans", hundred, "book.xlsx"))
    assert import_start(job=job, by=job.uploaded_by) is True
    assert import_start(job=job, by=job.uploaded_by) is False
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.QUEUED


# --- scope ------------------------------------------------------------------------------------------------------------
def test_a_beijing_manager_cannot_import_into_shanghai_but_head_office_can(staff, branches, product):
    rows = [
        loan_row(1, branch_code="SH", officer="db_officer_sh"),
        loan_row(2, branch_code="BJ"),
        borrower_row(3, branch_code="SH"),
    ]
    job = _checked(make_job(staff["manager"], "loans", csv_file("loans", rows[:2]), "loans.csv"))
    assert _messages(job) == {2: "Row 2, branch code: You may import only into your own branch."}
    people = _checked(make_job(staff["manager"], "borrowers", csv_file("borrowers", rows[2:]), "people.csv"))
    assert _messages(people) == {2: "Row 2, branch code: You may import only into your own branch."}

    job = _imported(make_job(staff["hq_manager"], "loans", csv_file("loans", rows[:2]), "loans.csv"))
    assert (job.rows_created, job.errors) == (2, [])
    assert Loan.objects.get(number="JK-00001").branch == branches["SH"]
    assert _borrower(resident_id(1)).branch == branches["SH"]


def test_a_loan_of_a_borrower_in_another_branch_is_refused(staff, product):
    make_borrower(staff["other_officer"], number=RESIDENT_IDS[2])
    row = _without_details(loan_row(1)) | {"identity_number": RESIDENT_IDS[2]}
    job = _checked(make_job(staff["manager"], "loans", csv_file("loans", [row]), "loans.csv"))
    assert _messages(job) == {2: "Row 2, identity number: This borrower belongs to another branch."}


# --- the other rules --------------------------------------------------------------------------------------------------
def test_each_rule_names_the_row_and_the_column(staff, product):
    make_product(code="NARROW", methods=["equal_installment"])
    cases = [
        (
            loan_row(1, mobile="12345"),
            "mobile number: Enter a mainland China mobile number: 11 digits starting with 13 to 19.",
        ),
        (
            loan_row(2, officer="nobody"),
            "loan officer (user name): There is no active loan officer with the user name “nobody” in "
            "Beijing Chaoyang Branch.",
        ),
        (
            loan_row(3, officer="db_officer_sh"),  # an officer of another branch
            "loan officer (user name): There is no active loan officer with the user name “db_officer_sh” in "
            "Beijing Chaoyang Branch.",
        ),
        (
            loan_row(4, method="weekly"),
            "repayment method: Unknown value “weekly”; use one of: equal_installment, equal_principal, interest_first, "
            "bullet.",
        ),
        (
            loan_row(5, product_code="NARROW", method="等额本金"),
            "repayment method: This product does not offer that repayment method.",
        ),
        (
            loan_row(6, annual_rate="15%"),
            "annual rate (%): The annual rate must be between 4.35% and 12.00% for this product.",
        ),
        (loan_row(7, term_months="48"), "term (months): The term must be between 6 and 36 months for this product."),
        (
            loan_row(8, principal="100000.005"),
            "principal (yuan): Enter an amount in yuan with at most two decimals, e.g. 1234.56.",
        ),
        (
            loan_row(9, disbursed_on="2026-07-01", first_due_date="2026-08-01"),
            "disbursed on: The disbursement date cannot be in the future.",
        ),
        (
            loan_row(10, first_due_date="2026-01-05"),
            "first due date: The first due date must be after the disbursement date.",
        ),
        (
            loan_row(11, first_due_date="2026-04-10"),
            "first due date: The first due date must be within two months of the disbursement date.",
        ),
        (
            loan_row(12, paid_installments="12"),
            "installments already paid: Between 0 and 11 installments can be marked paid: a loan paid in full is not "
            "migrated.",
        ),
        (
            _without_details(loan_row(13)),
            "identity number: No borrower with this identity number is in LoanTrack or in this file: fill in the "
            "borrower's details.",
        ),
        (
            loan_row(14, identity_number="1.10101197001010e17"),
            "identity number: A resident identity number has 18 characters; this one has 19.",
        ),
        (
            loan_row(
                15,
                kind="company",
                product_code="NARROW",
                legal_representative="王强",
                identity_type="uscc",
                identity_number=uscc(15),
            ),
            "borrower type: This product is not offered to this type of borrower.",
        ),
        (loan_row(16, name=""), "name: Fill in this column."),
        (loan_row(17, disbursed_on="15/01/2026"), "disbursed on: Enter a real date as YYYY-MM-DD."),
        (loan_row(18, email="not-an-address"), "email: Enter a valid email address."),
    ]
    job = _checked(make_job(staff["manager"], "loans", csv_file("loans", [row for row, _m in cases]), "rules.csv"))

    assert _messages(job) == {index + 2: f"Row {index + 2}, {message}" for index, (_row, message) in enumerate(cases)}
    assert job.rows_valid == 0


def test_the_borrower_forms_rules_apply_to_borrower_rows(staff, branches):
    cases = [
        (
            borrower_row(1, kind="company", identity_type="resident_id", legal_representative="王强"),
            "identity type: A company is identified by its unified social credit code.",
        ),
        (
            borrower_row(2, identity_type="uscc", identity_number=uscc(2)),
            "identity type: A person is identified by a resident identity card or a passport, not a USCC.",
        ),
        (
            borrower_row(3, kind="company", identity_type="", identity_number=uscc(3)),
            "legal representative: Enter the company's legal representative.",
        ),
        (
            borrower_row(4, identity_type="护照", identity_number="E12345678"),
            "date of birth: Enter the date of birth shown in the passport.",
        ),
        (
            borrower_row(5, kind="cooperative"),
            "borrower type: Unknown value “cooperative”; use one of: individual, sole_proprietor, company.",
        ),
        (
            borrower_row(6, monthly_income="-1"),
            "monthly income (yuan): Enter an amount in yuan with at most two decimals, e.g. 1234.56.",
        ),
        (borrower_row(7, years_at_job="2.5"), "years at job or business: Enter a whole number."),
    ]
    rows = [row for row, _m in cases] + [
        borrower_row(8, identity_type="passport", identity_number="e8765 4321", birth_date="1990/5/6")
    ]
    job = _imported(make_job(staff["manager"], "borrowers", csv_file("borrowers", rows), "people.csv"))

    assert _messages(job) == {index + 2: f"Row {index + 2}, {message}" for index, (_row, message) in enumerate(cases)}
    assert job.rows_created == 1
    passport = _borrower("E87654321", "passport")
    assert passport.birth_date == date(1990, 5, 6)


def test_one_identity_with_two_sets_of_details_is_refused_but_one_borrower_may_have_two_loans(staff, product):
    first = loan_row(1)
    second_loan = {key: value for key, value in loan_row(1).items() if key not in BORROWER_DETAIL_KEYS}
    second_loan |= {"contract_number": "JK-10001"}  # the same borrower, details left to row 2
    conflicting = loan_row(1, contract_number="JK-10002", mobile="13700000000")
    job = _checked(make_job(staff["manager"], "loans", csv_file("loans", [first, second_loan, conflicting]), "x.csv"))

    assert _messages(job) == {4: "Row 4, identity number: The same identity number is on row 2 with different details."}
    job.refresh_from_db()
    assert import_start(job=job, by=job.uploaded_by)
    import_run(job_id=job.pk)
    borrower = _borrower(resident_id(1))
    assert set(Loan.objects.filter(borrower=borrower).values_list("number", flat=True)) == {"JK-00001", "JK-10001"}


def test_a_borrower_already_present_is_skipped_not_updated(staff, branches):
    make_borrower(staff["officer"], number=resident_id(1), name="原名")
    rows = [borrower_row(1, name="新名"), borrower_row(2)]
    job = _imported(make_job(staff["manager"], "borrowers", csv_file("borrowers", rows), "people.csv"))

    assert (job.rows_valid, job.rows_created, job.rows_skipped) == (2, 1, 1)
    assert _borrower(resident_id(1)).name == "原名"


def test_a_chinese_excel_csv_with_chinese_headers_or_english_key_names_is_read(staff, branches):
    with translation.override("zh-hans"):
        chinese = csv_file("borrowers", [borrower_row(1, name="张伟")], encoding="gb18030")
    keys = csv_file("borrowers", [borrower_row(2)], headers=[column.key for column in COLUMNS["borrowers"]])

    assert _imported(make_job(staff["manager"], "borrowers", chinese, "gbk.csv")).rows_created == 1
    assert _imported(make_job(staff["manager"], "borrowers", keys, "keys.csv")).rows_created == 1
    assert _borrower(resident_id(1)).name == "张伟"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"Name,Favourite colour\n", "x.csv", "These columns are not in the template: “Favourite colour”."),
        (b"Name,Mobile number\n", "x.csv", "These required columns are missing: “Identity number”"),
        (b"PK\x03\x04 not really a zip", "x.xlsx", "This is not an Excel workbook (.xlsx) that LoanTrack can read."),
        (b"\xff\xfe\xfa\xfb\x81\x30", "x.csv", "The CSV file is neither UTF-8 nor GB18030 text."),
        (b"", "x.csv", "The file is empty."),
    ],
)
def test_a_file_that_cannot_be_used_fails_with_a_reason(staff, branches, data, name, message):
    job = _checked(make_job(staff["manager"], "borrowers", data, name))
    assert job.status == ImportStatus.FAILED
    assert message in job.error
    assert import_start(job=job, by=job.uploaded_by) is False


def test_a_migrated_contract_number_of_loantracks_own_form_moves_the_sequence_past_it(staff, product):
    job = _imported(
        make_job(staff["manager"], "loans", csv_file("loans", [loan_row(1, contract_number="HT2026000042")]), "a.csv")
    )
    assert job.rows_created == 1
    assert DocumentSequence.objects.get(prefix="HT", year=2026).last_value == 42


def test_the_application_of_a_migrated_loan_stays_out_of_the_review_figures(staff, product):
    _imported(make_job(staff["manager"], "loans", csv_file("loans", [loan_row(1)]), "a.csv"))
    application = Application.objects.get()
    assert application.status == ApplicationStatus.DISBURSED and application.submitted_at is None
    assert not ApplicationEvent.objects.filter(kind=ApplicationEvent.Kind.STATUS).exists()


def test_typed_excel_cells_are_read_and_an_identity_number_excel_rounded_is_refused(staff, product):
    typed = loan_row(1) | {
        "mobile": 13900000001,  # a number cell
        "principal": 100001.0,
        "annual_rate": 6,
        "term_months": 12.0,
        "disbursed_on": datetime(2026, 1, 10),  # date cells
        "first_due_date": date(2026, 2, 10),
        "paid_installments": 2,
    }
    rounded = loan_row(2) | {"identity_number": float(resident_id(2))}  # typed into a column not formatted as text
    job = _imported(make_job(staff["manager"], "loans", xlsx_from_template("loans", [typed, rounded]), "typed.xlsx"))

    assert _messages(job) == {
        3: "Row 3, identity number: Excel stored this as a number and lost digits: format the column as text."
    }
    loan = Loan.objects.get()
    assert (loan.principal, loan.disbursed_on, loan.borrower.mobile) == (
        Decimal("100001.00"),
        date(2026, 1, 10),
        "13900000001",
    )


def test_only_a_manager_of_the_uploaders_branch_or_head_office_may_start_an_import(staff, hundred):
    job = _checked(make_job(staff["manager"], "loans", hundred, "book.xlsx"))
    for outsider in (staff["officer"], staff["other_manager"]):
        with pytest.raises(PermissionDenied):
            import_start(job=job, by=outsider)
    assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.CHECKED
    assert import_start(job=job, by=staff["hq_manager"]) is True


def test_every_header_names_one_column_in_every_language(settings):
    """Header matching accepts the labels of every language and the key names: no two columns may share one, or a
    translation could send a column's values into another."""
    for kind, columns in COLUMNS.items():
        names: dict[str, str] = {}
        for column in columns:
            for language, _name in settings.LANGUAGES:
                with translation.override(language):
                    name = norm(str(column.label))
                assert names.setdefault(name, column.key) == column.key, (kind, language, name)
            assert names.setdefault(norm(column.key), column.key) == column.key, (kind, column.key)


# --- what was paid before the migration -------------------------------------------------------------------------------
PAID_BEFORE = [
    (1, "paid", date(2026, 2, 10)),
    (2, "paid", date(2026, 3, 10)),
    (3, "paid", date(2026, 4, 10)),
]


def test_reversing_a_later_repayment_keeps_the_installments_paid_before_the_migration(staff, product):
    loan = _imported_loan(staff["manager"])
    opening = Repayment.objects.get(loan=loan)
    before = (loan.outstanding_principal, loan.next_due_date, loan.next_due_amount)
    assert before == (Decimal("75559.03"), date(2026, 5, 10), Decimal("8606.73"))

    later = postloan_services.repayment_post(
        loan=loan, amount=Decimal("8606.73"), paid_on=TODAY, reference="ICBC-1", channel="cash", by=staff["officer"]
    )
    # Paid late, and recorded later still, with a date before the migrated payments' last one.
    late = postloan_services.repayment_post(
        loan=loan,
        amount=Decimal("100.00"),
        paid_on=date(2026, 3, 15),
        reference="ICBC-2",
        channel="cash",
        by=staff["officer"],
    )
    loan.refresh_from_db()
    assert loan.outstanding_principal == Decimal("75559.03") - Decimal("8228.93")
    assert _paid_state(loan)[3] == (4, "paid", TODAY)

    postloan_services.repayment_reverse(repayment=later, by=staff["manager"], reason="退票")

    loan.refresh_from_db()
    assert _paid_state(loan)[:4] == [*PAID_BEFORE, (4, "partial", None)]
    assert (loan.outstanding_principal, loan.next_due_date) == before[:2]
    assert loan.next_due_amount == Decimal("8506.73")  # the ¥100.00 dated 15 March paid installment 4's interest
    assert _allocations(opening) == [
        (1, Decimal("0.00"), Decimal("500.01"), Decimal("8106.72")),
        (2, Decimal("0.00"), Decimal("459.47"), Decimal("8147.26")),
        (3, Decimal("0.00"), Decimal("418.74"), Decimal("8187.99")),
    ]
    assert _allocations(late) == [(4, Decimal("0.00"), Decimal("100.00"), Decimal("0.00"))]

    postloan_services.repayment_reverse(repayment=late, by=staff["manager"], reason="记错")

    loan.refresh_from_db()
    assert _paid_state(loan)[:4] == [*PAID_BEFORE, (4, "pending", None)]
    assert (loan.outstanding_principal, loan.next_due_date, loan.next_due_amount) == before
    assert Allocation.objects.filter(repayment=opening, is_active=True).count() == 3


def test_the_payments_made_before_the_migration_cannot_be_reversed(staff, product):
    loan = _imported_loan(staff["manager"])
    opening = Repayment.objects.get(loan=loan)
    rows = list(Allocation.objects.filter(loan=loan).values_list("pk", "is_active"))

    for by in (staff["manager"], staff["risk"]):  # the importer, and a colleague
        with pytest.raises(TransitionError) as refused:
            postloan_services.repayment_reverse(repayment=opening, by=by, reason="wrong count")
        assert str(refused.value) == (
            "The payments made before the migration cannot be reversed here; correct them with a restructuring."
        )

    opening.refresh_from_db()
    assert not opening.is_reversed and not RepaymentReversal.objects.exists()
    assert list(Allocation.objects.filter(loan=loan).values_list("pk", "is_active")) == rows
    assert _paid_state(Loan.objects.get(pk=loan.pk))[:3] == PAID_BEFORE


def test_a_loan_with_nothing_paid_before_the_migration_has_no_opening_repayment(staff, product):
    loan = _imported_loan(staff["manager"], paid_installments="0")
    assert not Repayment.objects.exists() and not Allocation.objects.exists()
    assert not LoanEvent.objects.filter(loan=loan, kind=LoanEvent.Kind.NOTE).exists()
    assert loan.outstanding_principal == Decimal("100001.00")


def test_installments_paid_ahead_of_the_migration_date_the_opening_repayment_on_the_import_day(staff, product):
    loan = _imported_loan(staff["manager"], paid_installments="6")  # the 6th falls due on 10 July, after TODAY
    opening = Repayment.objects.get(loan=loan)
    assert (opening.amount, opening.paid_on) == (Decimal("51640.38"), TODAY)  # 6 × 8,606.73
    assert [(item.number, item.paid_on) for item in loan.current_installments()][4:7] == [
        (5, date(2026, 6, 10)),
        (6, date(2026, 7, 10)),
        (7, None),
    ]
    # A repayment dated after the import date would refuse the borrower a payoff today.
    payoff = postloan_services.payoff_post(
        loan=loan, on_date=TODAY, reference="PAYOFF-1", channel="cash", by=staff["officer"]
    )
    loan.refresh_from_db()
    assert (loan.status, loan.paid_off_on, loan.outstanding_principal) == ("paid_off", TODAY, Decimal("0.00"))
    # The principal left after the 6th installment; its interest was paid ahead, so none accrues for June.
    assert payoff.amount == Decimal("50748.59")


def test_the_loan_page_and_the_portal_show_the_opening_repayment(client, staff, product):
    loan = _imported_loan(staff["manager"])
    postloan_services.repayment_post(
        loan=loan, amount=Decimal("500.00"), paid_on=TODAY, reference="ICBC-1", channel="cash", by=staff["officer"]
    )
    User.objects.update(preferred_language="en")
    client.force_login(staff["risk"])  # may reverse, and posted neither

    page = client.get(reverse("postloan:detail", args=[loan.pk]) + "?tab=repayments").content.decode()

    opening = page[page.index('data-testid="repayment-MIGRATED-JK-00001"') :]
    assert "¥25,820.19" in opening and "2026-04-10" in opening
    assert "Paid before migration to LoanTrack · reference" in " ".join(opening.split())
    assert "#3 · 2026-04-10" in opening
    # The later repayment may be reversed; the opening one offers no button that could only be refused.
    assert 'data-testid="reverse-ICBC-1"' in page and 'data-testid="reverse-MIGRATED-JK-00001"' not in page

    _invitation, token = portal_services.borrower_invite(borrower=loan.borrower, by=staff["officer"])
    client.force_login(portal_services.invitation_accept(token=token, password="Portal-Pass-2026", language="en"))
    portal = client.get(reverse("portal:loan", args=[loan.number]))
    assert portal.status_code == 200
    payments = portal.content.decode().split('data-testid="repayments"')[1].split("</ul>")[0]
    assert "¥25,820.19" in payments and "¥500.00" in payments


# --- the safety net for lost jobs -------------------------------------------------------------------------------------
def _loans_file(*numbers: int) -> bytes:
    return csv_file("loans", [loan_row(n) for n in numbers])


def _aged(job: ImportJob, **ages: timedelta) -> ImportJob:
    """Move the job's timestamps back: _aged(job, created_at=timedelta(minutes=11))."""
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(**{field: now - age for field, age in ages.items()})
    job.refresh_from_db()
    return job


NOTHING = {"gave_up": 0, "checking": 0, "queued": 0, "running": 0}
ELEVEN_HOURS = timedelta(hours=11)


def test_the_sweep_sends_lost_dry_runs_and_imports_again_and_fails_a_check_that_never_ends(
    staff, product, django_capture_on_commit_callbacks
):
    manager = staff["manager"]
    lost_check = _aged(make_job(manager, "loans", _loans_file(1, 2), "a.csv"), created_at=timedelta(minutes=11))
    recent_check = _aged(make_job(manager, "loans", _loans_file(3), "b.csv"), created_at=timedelta(minutes=5))
    hopeless = _aged(make_job(manager, "loans", _loans_file(4), "c.csv", language="zh-hans"), created_at=ELEVEN_HOURS)
    lost_run = _checked(make_job(manager, "loans", _loans_file(5, 6), "d.csv"))
    # The broker lost the message: outside django_capture_on_commit_callbacks, the task queued on commit never runs.
    assert import_start(job=lost_run, by=manager)
    lost_run = _aged(lost_run, created_at=timedelta(minutes=30), checked_at=timedelta(minutes=20))
    assert Loan.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.imports_resume_sweep() == {"gave_up": 1, "checking": 1, "queued": 1, "running": 0}

    lost_check.refresh_from_db()
    assert (lost_check.status, lost_check.rows_valid, lost_check.errors) == ("checked", 2, [])
    lost_run.refresh_from_db()
    assert (lost_run.status, lost_run.rows_created) == ("done", 2)
    assert set(Loan.objects.values_list("number", flat=True)) == {"JK-00005", "JK-00006"}
    assert ImportJob.objects.get(pk=recent_check.pk).status == ImportStatus.CHECKING  # may still be on its way
    hopeless.refresh_from_db()
    assert hopeless.status == ImportStatus.FAILED
    with translation.override("zh-hans"):  # in the uploader's language
        assert hopeless.error == str(
            translation.gettext("The file could not be checked. Upload it again, or split it into smaller files.")
        )
    # Twice changes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.imports_resume_sweep() == NOTHING
    assert Loan.objects.count() == 2


def _wait_for_the_lock_to_go(job, seconds: float = 5.0) -> None:
    """PostgreSQL lets go of a closed connection's advisory locks when its backend has exited, a moment after the
    client closed it: a sweep run in that moment still sees the job held (CI failed on this once)."""
    import time

    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s",
                [jobs.WORKER_LOCK_CLASS, job.pk],
            )
            if cursor.fetchone()[0] == 0 or time.monotonic() > deadline:
                return
            time.sleep(0.02)


def test_the_sweep_resumes_an_import_whose_worker_died_but_not_one_a_worker_still_holds(
    staff, product, monkeypatch, django_capture_on_commit_callbacks
):
    if connection.vendor != "postgresql":
        pytest.skip("a running import is judged by its PostgreSQL advisory lock")
    monkeypatch.setitem(imports.CHUNK_ROWS, "loans", 1)
    job = _checked(make_job(staff["manager"], "loans", _loans_file(1, 2, 3), "a.csv"))
    assert import_start(job=job, by=job.uploaded_by)
    real_chunk = jobs._import_chunk

    def crashing_chunk(job, chunk, details, *, done_before):
        if done_before == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_chunk(job, chunk, details, done_before=done_before)

    monkeypatch.setattr(jobs, "_import_chunk", crashing_chunk)
    with pytest.raises(OperationalError):
        import_run(job_id=job.pk)
    with connection.cursor() as cursor:  # the crashed run let go of the job
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
    monkeypatch.setattr(jobs, "_import_chunk", real_chunk)
    job = _aged(job, started_at=timedelta(minutes=15))
    assert (job.status, job.rows_done, Loan.objects.count()) == ("running", 1, 1)

    # Another worker is still on the job: it holds the job's lock on its own connection.
    worker = psycopg2.connect(**connection.get_connection_params())
    try:
        with worker.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [jobs.WORKER_LOCK_CLASS, job.pk])
        with django_capture_on_commit_callbacks(execute=True):
            assert jobs.imports_resume_sweep() == NOTHING
        # A second delivery of the task (a redelivered message) stops too.
        assert import_run(job_id=job.pk).rows_done == 1
        job.refresh_from_db()
        assert (job.status, job.rows_done, Loan.objects.count()) == ("running", 1, 1)
    finally:
        worker.close()  # the worker dies, and its lock with its connection
    _wait_for_the_lock_to_go(job)

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.imports_resume_sweep() == NOTHING | {"running": 1}

    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_created, job.rows_skipped) == ("done", 3, 3, 0)
    assert Loan.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.imports_resume_sweep() == NOTHING


def test_the_sweep_runs_every_ten_minutes_on_the_sweeps_queue(settings, staff):
    assert settings.PERIODIC_TASKS["dashboard: resume lost imports"] == {
        "task": "dashboard.tasks.sweep_stale_imports",
        "crontab": {"minute": "*/10"},
        "queue": "sweeps",
    }
    assert celery_app.amqp.router.route({}, "dashboard.tasks.sweep_stale_imports")["queue"].name == "sweeps"
    assert dashboard_tasks.sweep_stale_imports.delay().get() == NOTHING
