"""A loan book for the sweep tests, written with bulk_create in seconds rather than through the services.

One loan made through the services gives the borrower, branch, officer and the application and contract to copy;
each book loan gets its own application and contract copy, a loan, schedule version 1 and twelve installments from
`core.schedules.build_schedule`, as the sweep of the day before the business date would have left them.

Loan i follows scenario i % 10:
- 0–5 current: every installment due before the business date paid on its due date;
- 6 due yesterday and unpaid: newly overdue today;
- 7 overdue for a while: nothing paid since the first due date, `OVERDUE_DAYS[i // 10 % len]` days before today;
- 8 the same, but the sweeps of the last two days were missed (penalty accrued through three days ago);
- 9 due today, unpaid: not overdue yet.
"""

import copy
from datetime import date, timedelta
from decimal import Decimal

from applications.models import Application
from core.dates import add_months
from core.schedules import build_schedule
from postloan.models import (
    Bucket,
    Classification,
    ClassificationChange,
    Contract,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    LoanStatus,
    PenaltyAccrual,
    ScheduleVersion,
    bucket_for_dpd,
)

# Days past due today of the "overdue for a while" loans; several sit on a classification boundary.
OVERDUE_DAYS = (2, 31, 61, 90, 91, 92, 200, 270, 271, 300, 360, 361, 365)
PENALTY_RATE = Decimal("9.0000")
ANNUAL_RATE = Decimal("6.0000")
ZERO = Decimal("0.00")


# Loans i and i + PATTERN_PERIOD are alike (scenario, amount, dates): two books built that far apart can be compared.
PATTERN_PERIOD = 10 * len(OVERDUE_DAYS) * 37


def scenario(index: int) -> str:
    return {6: "new", 7: "overdue", 8: "catch_up", 9: "due_today"}.get(index % 10, "current")


def overdue_days(index: int) -> int:
    """Days past due on the business date of an "overdue"/"catch_up" loan (due date of installment 1 = today − it)."""
    return OVERDUE_DAYS[index // 10 % len(OVERDUE_DAYS)]


def expected_class(dpd: int) -> str:
    """DESIGN.md §4 written out again, independently of the code under test."""
    if dpd > 360:
        return Classification.LOSS
    if dpd > 270:
        return Classification.DOUBTFUL
    if dpd > 90:
        return Classification.SUBSTANDARD
    if dpd >= 1:
        return Classification.SPECIAL_MENTION
    return Classification.NORMAL


def _first_due(index: int, business_date: date) -> date:
    kind = scenario(index)
    if kind == "new":
        return business_date - timedelta(days=1)
    if kind in ("overdue", "catch_up"):
        return business_date - timedelta(days=overdue_days(index))
    if kind == "due_today":
        return business_date
    return business_date - timedelta(days=40 + index % 37 * 2)  # one to three installments already paid


def build_book(template: Loan, *, count: int, business_date: date, start: int = 0) -> list[int]:
    """Write `count` loans modelled on `template`; returns their ids."""
    yesterday = business_date - timedelta(days=1)
    application = Application.objects.get(pk=template.contract.application_id)
    contract = Contract.objects.get(pk=template.contract_id)
    user = template.officer
    applications, contracts, loans, plans = [], [], [], []
    for index in range(start, start + count):
        principal = Decimal(12000 + (index % 37) * 1000)
        first_due = _first_due(index, business_date)
        rows = build_schedule(
            principal=principal,
            annual_rate=ANNUAL_RATE,
            term_months=12,
            method="equal_principal",
            first_due_date=first_due,
        )
        new_application = copy.copy(application)
        new_application.pk = new_application.id = None
        new_application.number = f"BA{index:07d}"
        new_application.amount = new_application.approved_amount = principal
        applications.append(new_application)

        new_contract = copy.copy(contract)
        new_contract.pk = new_contract.id = None
        new_contract.number = f"BK{index:07d}"
        new_contract.amount = principal
        new_contract.first_due_date, new_contract.repayment_day = first_due, first_due.day
        new_contract.maturity_date = rows[-1].due_date
        contracts.append(new_contract)

        kind = scenario(index)
        paid = [row for row in rows if kind == "current" and row.due_date < business_date]
        unpaid = rows[len(paid) :]
        oldest = unpaid[0]
        loan = Loan(
            number=new_contract.number,
            borrower_id=template.borrower_id,
            branch_id=template.branch_id,
            officer_id=template.officer_id,
            product_id=template.product_id,
            principal=principal,
            annual_rate=ANNUAL_RATE,
            penalty_rate=PENALTY_RATE,
            method="equal_principal",
            term_months=12,
            disbursed_on=add_months(first_due, -1),
            maturity_date=rows[-1].due_date,
            outstanding_principal=sum((row.principal for row in unpaid), ZERO),
            next_due_date=oldest.due_date,
            next_due_amount=oldest.total,
            penalty_accrued_through=business_date - timedelta(days=3) if kind == "catch_up" else yesterday,
        )
        last_run_dpd = (loan.penalty_accrued_through - first_due).days
        if kind in ("overdue", "catch_up") and last_run_dpd >= 1:
            # As the last sweep left it: overdue, aged and classified as of the day it ran.
            loan.status, loan.overdue_since = LoanStatus.OVERDUE, first_due + timedelta(days=1)
            loan.dpd, loan.bucket = last_run_dpd, bucket_for_dpd(last_run_dpd)
            loan.classification = expected_class(last_run_dpd)
        else:
            loan.status, loan.bucket = LoanStatus.ACTIVE, Bucket.CURRENT
        loans.append(loan)
        plans.append((rows, len(paid)))

    Application.objects.bulk_create(applications)
    for new_contract, new_application in zip(contracts, applications, strict=True):
        new_contract.application = new_application
    Contract.objects.bulk_create(contracts)
    for loan, new_contract in zip(loans, contracts, strict=True):
        loan.contract = new_contract
    Loan.objects.bulk_create(loans)
    versions = ScheduleVersion.objects.bulk_create(
        [ScheduleVersion(loan=loan, version=1, reason="disbursement", created_by=user) for loan in loans]
    )
    installments = []
    for loan, version, (rows, paid_count) in zip(loans, versions, plans, strict=True):
        for row in rows:
            paid = row.number <= paid_count
            installments.append(
                Installment(
                    loan=loan,
                    version=version,
                    number=row.number,
                    due_date=row.due_date,
                    principal_due=row.principal,
                    interest_due=row.interest,
                    principal_paid=row.principal if paid else ZERO,
                    interest_paid=row.interest if paid else ZERO,
                    status=InstallmentStatus.PAID if paid else InstallmentStatus.PENDING,
                    paid_on=row.due_date if paid else None,
                )
            )
    Installment.objects.bulk_create(installments, batch_size=5000)
    return [loan.pk for loan in loans]


# --- what the sweep leaves behind ---------------------------------------------------------------------------------
# Everything the sweep writes, in SQL so that the same queries read the test database and a copy of it.
SNAPSHOT_QUERIES = {
    "loans": """SELECT id, status, dpd, bucket, classification, manual_classification, overdue_since, next_due_date,
                       next_due_amount, outstanding_principal, penalty_accrued_through
                FROM postloan_loan ORDER BY id""",
    "installments": "SELECT id, penalty_accrued, status, principal_paid FROM postloan_installment ORDER BY id",
    "accruals": """SELECT installment_id, accrual_date, overdue_principal, penalty_rate, amount
                   FROM postloan_penaltyaccrual ORDER BY installment_id, accrual_date""",
    "changes": """SELECT loan_id, from_class, to_class, source, reason, dpd, business_date, by_id
                  FROM postloan_classificationchange ORDER BY loan_id, id""",
    "events": "SELECT loan_id, kind, note, data::text FROM postloan_loanevent ORDER BY loan_id, id",
    "loan_history": """SELECT id, status, classification, count(*) FROM postloan_historicalloan
                        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
    "outbox": "SELECT idempotency_key, status FROM notifications_outboxmessage ORDER BY idempotency_key",
    "applications": "SELECT id, status FROM applications_application ORDER BY id",
}


def db_snapshot(cursor) -> dict[str, list[tuple]]:
    """The rows the sweep writes, from a DB-API cursor (Django's or psycopg2's); timestamps left out."""
    snapshot = {}
    for name, sql in SNAPSHOT_QUERIES.items():
        cursor.execute(sql)
        snapshot[name] = [tuple(row) for row in cursor.fetchall()]
    return snapshot


def book_state(loan_ids: list[int]) -> list[tuple]:
    """Per loan, in id order, what the sweep decided, without ids: compares two books built alike."""
    state = []
    for loan in Loan.objects.filter(pk__in=loan_ids).order_by("pk"):
        state.append(
            (
                loan.status,
                loan.dpd,
                loan.bucket,
                loan.classification,
                loan.overdue_since,
                loan.next_due_date,
                loan.next_due_amount,
                loan.penalty_accrued_through,
                tuple(
                    Installment.objects.filter(loan=loan).order_by("number").values_list("number", "penalty_accrued")
                ),
                tuple(
                    PenaltyAccrual.objects.filter(loan=loan)
                    .order_by("installment__number", "accrual_date")
                    .values_list("installment__number", "accrual_date", "overdue_principal", "amount")
                ),
                tuple(
                    ClassificationChange.objects.filter(loan=loan)
                    .order_by("pk")
                    .values_list("from_class", "to_class", "source", "reason", "dpd", "business_date")
                ),
                tuple(LoanEvent.objects.filter(loan=loan).order_by("pk").values_list("kind", "note", "data")),
            )
        )
    return state
