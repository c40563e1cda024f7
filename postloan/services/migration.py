"""Loans migrated from another system (the dashboard's spreadsheet import): a running loan that was reviewed,
contracted and disbursed elsewhere comes in as if LoanTrack had done it, with the same rows a disbursement writes.

The importer is recorded as both preparer and confirmer of the contract and the disbursement (the maker-checker
happened in the old system; the timeline says it was a migration). Installments paid before the migration are
marked paid on their due dates by one opening repayment (channel "paid before migration", allocated by the same
ledger as any repayment, so the books balance and a later reversal keeps them paid), and penalty interest starts on
the import date, so nothing owed before it is invented.
"""

import re
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Branch, User
from accounts.permissions import has_role, in_scope, require
from accounts.roles import Role
from applications.models import Borrower, Product
from applications.services import application_import, product_range_problems, require_import_branch
from core.dates import add_months, local_today
from core.models import DocumentSequence
from core.money import round_money, round_rate
from core.schedules import ScheduleMethod, maturity_date

from ..models import Contract, ContractStatus, Disbursement, DisbursementStatus, Loan, LoanEvent, Repayment
from ..models.base import ZERO
from ..models.repayments import OpeningChannel
from ..signals import loan_disbursed
from .common import build_loan_event, loan_refresh_summary
from .contracts import CONTRACT_PREFIX, MAX_FIRST_PERIOD_MONTHS, loan_start
from .ledger import Ledger

# The bank reference of a migrated disbursement: the old system's transfer is not known, the contract number is.
MIGRATED_REFERENCE_PREFIX = "MIGRATED-"
CONTRACT_NUMBER_MAX_LENGTH = Contract._meta.get_field("number").max_length
# LoanTrack's own contract numbers, HT + year + 6 digits (core.models.next_document_number).
_OWN_CONTRACT_NUMBER_RE = re.compile(rf"{CONTRACT_PREFIX}(\d{{4}})(\d{{6}})")
_CONTRACT_NUMBER_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_/.\-]*")


def installment_count(*, term_months: int, method: str) -> int:
    """How many installments a schedule has: one at maturity for a bullet loan, else one a month."""
    return 1 if method == ScheduleMethod.BULLET else term_months


def loan_import_problems(
    *,
    product: Product,
    borrower_kind: str | None,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    disbursed_on: date,
    first_due_date: date,
    paid_installments: int,
    today: date | None = None,
) -> dict[str, str]:
    """What is wrong with the terms of a loan to migrate, by field (empty when nothing): the product's ranges and
    methods, the dates and the installments already paid. No database access; the dry run and `loan_import` share it."""
    today = today or local_today()
    problems: dict[str, str] = {}
    if borrower_kind and borrower_kind not in product.borrower_kinds:
        problems["kind"] = _("This product is not offered to this type of borrower.")
    if principal <= 0 or round_money(principal) != principal:
        problems["principal"] = _("Enter an amount in yuan with at most two decimals, e.g. 1234.56.")
    if method not in ScheduleMethod.values:
        problems["method"] = _("Unknown repayment method; use one of: %(methods)s.") % {
            "methods": ", ".join(ScheduleMethod.values)
        }
    ranges = product_range_problems(
        product=product, amount=principal, term_months=term_months, method=method, rate=annual_rate
    )
    if "amount" in ranges:
        problems.setdefault("principal", ranges.pop("amount"))  # an unusable amount is reported as such, not twice
    problems = ranges | problems  # an unknown method says so rather than "not offered"
    if disbursed_on > today:
        problems["disbursed_on"] = _("The disbursement date cannot be in the future.")
    if first_due_date <= disbursed_on:
        problems["first_due_date"] = _("The first due date must be after the disbursement date.")
    elif first_due_date > add_months(disbursed_on, MAX_FIRST_PERIOD_MONTHS):
        problems["first_due_date"] = _("The first due date must be within two months of the disbursement date.")
    if "method" not in problems and term_months >= 1:
        count = installment_count(term_months=term_months, method=method)
        if not 0 <= paid_installments < count:
            problems["paid_installments"] = _(
                "Between 0 and %(most)s installments can be marked paid: a loan paid in full is not migrated."
            ) % {"most": count - 1}
    return problems


def clean_contract_number(value: str) -> str:
    """The contract number as stored, or a ValidationError: letters, digits and - _ / . only, at most 20."""
    number = (value or "").strip()
    if not number or len(number) > CONTRACT_NUMBER_MAX_LENGTH or not _CONTRACT_NUMBER_RE.fullmatch(number):
        raise ValidationError(
            {
                "contract_number": _(
                    "Enter the contract number: up to %(count)s letters or digits (and - _ / .), no spaces."
                )
                % {"count": CONTRACT_NUMBER_MAX_LENGTH}
            }
        )
    return number


def _require_officer(officer: User, branch: Branch) -> None:
    if not (officer.is_active and has_role(officer, Role.OFFICER) and officer.branch_id == branch.pk):
        raise ValidationError(
            {"officer_username": _("The loan officer must be an active loan officer of the loan's branch.")}
        )


def _keep_sequence_ahead(number: str) -> None:
    """A migrated number of LoanTrack's own form (HT2026000042) moves the HT sequence past it, so that the next
    contract LoanTrack draws up does not collide with it."""
    match = _OWN_CONTRACT_NUMBER_RE.fullmatch(number)
    if match is None:
        return
    year, value = int(match.group(1)), int(match.group(2))
    DocumentSequence.objects.get_or_create(prefix=CONTRACT_PREFIX, year=year)
    DocumentSequence.objects.filter(prefix=CONTRACT_PREFIX, year=year, last_value__lt=value).update(last_value=value)


def _opening_repayment(loan: Loan, *, paid_installments: int, by: User) -> Repayment | None:
    """What was paid before the migration, as one repayment allocated by the ledger over the first
    `paid_installments` installments (their principal and interest, oldest first), which it pays in full.

    It is dated the last of their due dates (the import date when that is later: paid ahead, and no repayment is
    dated in the future), and each installment keeps its own due date as its paid day (paid on time). It is posted
    just before schedule version 1 took effect, so a reversal, which recomputes only the repayments posted since the
    schedule in force began, keeps its allocations (and the installments' paid days) as they are. None when those
    installments owe nothing (a zero rate's interest-only months).
    """
    if not paid_installments:
        return None
    today = local_today()
    ledger = Ledger(loan, today=today)
    paid = [item for item in ledger.installments if item.number <= paid_installments]
    amount = sum((item.principal_due + item.interest_due for item in paid), ZERO)
    if not paid or amount <= 0:
        return None
    version = loan.schedule_versions.get(version=loan.current_version)
    repayment = Repayment(
        loan=loan,
        reference=f"{MIGRATED_REFERENCE_PREFIX}{loan.number}",
        amount=amount,
        paid_on=min(paid[-1].due_date, today),
        channel=OpeningChannel.MIGRATED,
        posted_by=by,
        posted_at=version.created_at - timedelta(microseconds=1),
    )
    repayment._history_user = by
    repayment.save()
    plan = ledger.plan(amount, everything=True)
    ledger.apply(plan, repayment=repayment, credit_before=ZERO, generation=loan.allocation_generation)
    for item in paid:
        item.paid_on = item.due_date
    ledger.write(by)
    return repayment


@transaction.atomic
def loan_import(
    *,
    borrower: Borrower,
    product: Product,
    branch: Branch,
    officer: User,
    contract_number: str,
    principal: Decimal,
    annual_rate: Decimal,
    term_months: int,
    method: str,
    disbursed_on: date,
    first_due_date: date,
    paid_installments: int,
    by: User,
    purpose: str = "",
    import_job: int | None = None,
) -> Loan:
    """Bring a running loan over from another system: application (disbursed), signed contract, confirmed
    disbursement, loan with schedule version 1 and its installments, the first `paid_installments` of them paid.

    Refuses (ValidationError by field, PermissionDenied) what a disbursement would refuse; a contract number already
    in LoanTrack is a ValidationError on `contract_number` (the importer checks first and counts it as present).
    """
    require(by, "book.import")
    require_import_branch(by, branch)
    if not in_scope(by, borrower):
        raise PermissionDenied(_("This borrower belongs to another branch."))
    _require_officer(officer, branch)
    contract_number = clean_contract_number(contract_number)
    principal, annual_rate = round_money(principal), round_rate(annual_rate)
    problems = loan_import_problems(
        product=product,
        borrower_kind=borrower.kind,
        principal=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        method=method,
        disbursed_on=disbursed_on,
        first_due_date=first_due_date,
        paid_installments=paid_installments,
    )
    if problems:
        raise ValidationError(problems)
    # A loan's number is its contract's: one lookup covers both.
    if Contract.objects.filter(number=contract_number).exists():
        raise ValidationError({"contract_number": _("A contract with this number is already in LoanTrack.")})

    note = _("Migrated from another system by a spreadsheet import.")
    application = application_import(
        by=by,
        borrower=borrower,
        product=product,
        branch=branch,
        officer=officer,
        amount=principal,
        term_months=term_months,
        method=method,
        annual_rate=annual_rate,
        purpose=purpose,
        note=note,
        contract_number=contract_number,
        import_job=import_job,
    )
    now = timezone.now()
    contract = Contract(
        number=contract_number,
        application=application,
        borrower=borrower,
        branch=branch,
        officer=officer,
        amount=principal,
        annual_rate=annual_rate,
        term_months=term_months,
        method=method,
        first_due_date=first_due_date,
        repayment_day=first_due_date.day,
        maturity_date=maturity_date(first_due_date=first_due_date, term_months=term_months, method=method),
        penalty_rate=round_rate(product.effective_penalty_rate(annual_rate)),
        status=ContractStatus.SIGNED,
        prepared_by=by,
        prepared_at=now,
        confirmed_by=by,
        confirmed_at=now,
    )
    contract._history_user = by
    contract.save()
    _keep_sequence_ahead(contract_number)
    disbursement = Disbursement(
        contract=contract,
        amount=principal,
        disbursed_on=disbursed_on,
        bank_name="",
        account_number="",
        account_masked="",
        bank_reference=f"{MIGRATED_REFERENCE_PREFIX}{contract_number}",
        status=DisbursementStatus.CONFIRMED,
        prepared_by=by,
        prepared_at=now,
        confirmed_by=by,
        confirmed_at=now,
    )
    disbursement._history_user = by
    disbursement.save()

    # Penalty interest accrues from the import on: whatever was overdue before it was settled in the old system.
    loan = loan_start(contract=contract, disbursed_on=disbursed_on, by=by, penalty_accrued_through=local_today())
    opening = _opening_repayment(loan, paid_installments=paid_installments, by=by)
    loan_refresh_summary(loan, by=by)
    events = [
        build_loan_event(
            loan,
            kind=LoanEvent.Kind.DISBURSED,
            by=by,
            note=note,
            amount=loan.principal,
            disbursed_on=loan.disbursed_on,
            bank_reference=disbursement.bank_reference,
            prepared_by=by.pk,
            migrated=True,
            import_job=import_job,
        )
    ]
    if paid_installments:
        events.append(
            build_loan_event(
                loan,
                kind=LoanEvent.Kind.NOTE,
                by=by,
                note=_("%(count)s installments were paid before the migration.") % {"count": paid_installments},
                import_job=import_job,
                paid_installments=paid_installments,
                **(
                    {"repayment": opening.pk, "reference": opening.reference, "amount": opening.amount}
                    if opening is not None
                    else {}
                ),
            )
        )
    LoanEvent.objects.bulk_create(events)
    loan_id = loan.pk
    # Sent as for any disbursement: the follow-up plan (first, second, pre-maturity, quarterly) of a migrated loan
    # must exist in LoanTrack too, or its officer would never be asked to call (the 01:00 safety net would plan it a
    # day late anyway). The plan counts from the real disbursement date, so for an old loan its early follow-ups are
    # already due. Robust, as in disbursement_confirm: a failing receiver must not undo a committed import.
    transaction.on_commit(lambda: loan_disbursed.send(sender=Loan, loan_id=loan_id), robust=True)
    return loan
