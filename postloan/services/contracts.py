"""From approval to a running loan: the contract (借款合同) and the disbursement (放款), each with maker-checker."""

import re
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from accounts.permissions import require, require_checker
from applications.models import Application, ApplicationStatus
from core.dates import SHANGHAI, add_months, local_today
from core.masking import mask_bank_account
from core.models import next_document_number
from core.money import format_yuan, round_rate
from core.schedules import build_schedule, maturity_date

from ..models import (
    Contract,
    ContractStatus,
    Disbursement,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    ScheduleVersion,
    TransitionError,
)
from ..models.base import ZERO
from ..signals import loan_disbursed
from .common import clean_text, loan_event, loan_refresh_summary, require_in_scope

CONTRACT_PREFIX = "HT"  # 合同
# A first period much longer than a month would still charge one month's interest; two months is the most we allow.
MAX_FIRST_PERIOD_MONTHS = 2
_ACCOUNT_SEPARATORS_RE = re.compile(r"[\s-]")
_ACCOUNT_RE = re.compile(r"\d{8,30}")


def _rate(value) -> Decimal:
    """A rate in percent per year, to the 4 decimals the columns keep."""
    return round_rate(value)


def _require_approval_valid(application: Application) -> None:
    if application.expires_at is not None and application.expires_at < timezone.now():
        raise TransitionError(
            _("The approval expired on %(date)s; the application must be approved again.")
            % {"date": date_format(application.expires_at.astimezone(SHANGHAI).date())}
        )


def _check_date(value, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError({field: _("Enter a date.")})
    return value


def _snapshot_parties(application: Application) -> list[dict]:
    return [
        {
            "role": party.role,
            "name": party.name,
            "relationship": party.relationship,
            "mobile": party.mobile,
            "address": party.address,
        }
        for party in application.parties.all()
    ]


def _snapshot_collateral(application: Application) -> list[dict]:
    return [
        {
            "kind": item.kind,
            "description": item.description,
            "estimated_value": str(item.estimated_value),
            "custodian": item.custodian.name if item.custodian else "",
        }
        for item in application.collateral.select_related("custodian")
    ]


# --- contracts ----------------------------------------------------------------------------------------------------
@transaction.atomic
def contract_prepare(*, application: Application, by: User, first_due_date: date) -> Contract:
    """Draw up the contract of an approved application on its approved terms; a colleague confirms it.

    The assigned officer prepares it; repayments fall due monthly on the day of `first_due_date`.
    """
    require(by, "contract.prepare")
    require_in_scope(by, application, _("This application belongs to another branch."))
    if application.officer_id != by.pk:
        raise PermissionDenied(
            _("Only the assigned officer, %(name)s, may prepare this contract.") % {"name": application.officer}
        )
    # The row lock makes a second, simultaneous preparation wait and then see the first one's contract.
    application = Application.objects.select_for_update().select_related("product", "borrower").get(pk=application.pk)
    existing = Contract.objects.filter(application=application).first()
    if existing is not None:
        raise TransitionError(
            _("Contract %(number)s has already been prepared for this application.") % {"number": existing.number}
        )
    if application.status != ApplicationStatus.APPROVED:
        raise TransitionError(
            _("A contract can be prepared only for an approved application; this one is “%(status)s”.")
            % {"status": application.get_status_display()}
        )
    _require_approval_valid(application)
    today = local_today()
    first_due_date = _check_date(first_due_date, "first_due_date")
    if first_due_date <= today:
        raise ValidationError({"first_due_date": _("The first due date must be after today.")})
    if first_due_date > add_months(today, MAX_FIRST_PERIOD_MONTHS):
        raise ValidationError({"first_due_date": _("The first due date must be within two months of today.")})

    annual_rate = _rate(application.approved_rate)
    term_months = application.approved_term_months
    contract = Contract(
        number=next_document_number(CONTRACT_PREFIX, today.year),
        application=application,
        borrower=application.borrower,
        branch_id=application.branch_id,
        officer_id=application.officer_id,
        amount=application.approved_amount,
        annual_rate=annual_rate,
        term_months=term_months,
        method=application.method,
        first_due_date=first_due_date,
        repayment_day=first_due_date.day,
        maturity_date=maturity_date(first_due_date=first_due_date, term_months=term_months, method=application.method),
        penalty_rate=_rate(application.product.effective_penalty_rate(annual_rate)),
        parties=_snapshot_parties(application),
        collateral=_snapshot_collateral(application),
        prepared_by=by,
    )
    contract._history_user = by
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        # SQLite ignores the row lock; the one-contract-per-application constraint still holds.
        raise TransitionError(_("A contract has just been prepared for this application by someone else.")) from None
    return contract


@transaction.atomic
def contract_confirm(*, contract: Contract, by: User) -> Contract:
    """A second person checks the prepared contract: it is signed and the application becomes `contracted`."""
    require(by, "contract.confirm")
    require_in_scope(by, contract, _("This contract belongs to another branch."))
    require_checker(by, contract.prepared_by_id)
    application = Application.objects.select_for_update().get(pk=contract.application_id)
    _require_approval_valid(application)
    contract.sign(by=by)
    application.mark_contracted(by=by)
    return contract


# --- disbursements ------------------------------------------------------------------------------------------------
def _clean_account_number(value: str | None) -> str:
    number = _ACCOUNT_SEPARATORS_RE.sub("", value or "")
    if not _ACCOUNT_RE.fullmatch(number):
        raise ValidationError({"account_number": _("Enter the bank account number: 8 to 30 digits.")})
    return number


@transaction.atomic
def disbursement_prepare(
    *,
    contract: Contract,
    by: User,
    disbursed_on: date,
    bank_name: str,
    account_number: str,
    bank_reference: str,
) -> Disbursement:
    """Record the transfer of the contract amount to the borrower's account; a colleague confirms it."""
    require(by, "disbursement.prepare")
    require_in_scope(by, contract, _("This contract belongs to another branch."))
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    existing = Disbursement.objects.filter(contract=contract).first()
    if existing is not None:
        raise TransitionError(
            _("The disbursement of contract %(number)s has already been recorded (%(reference)s).")
            % {"number": contract.number, "reference": existing.bank_reference}
        )
    if contract.status != ContractStatus.SIGNED:
        raise TransitionError(
            _("The money can be disbursed only on a signed contract; this one is “%(status)s”.")
            % {"status": contract.get_status_display()}
        )
    disbursed_on = _check_date(disbursed_on, "disbursed_on")
    signed_on = contract.confirmed_at.astimezone(SHANGHAI).date()
    if disbursed_on < signed_on:
        raise ValidationError(
            {
                "disbursed_on": _("The money cannot be disbursed before the contract was signed (%(date)s).")
                % {"date": date_format(signed_on)}
            }
        )
    if disbursed_on > local_today():
        raise ValidationError({"disbursed_on": _("The disbursement date cannot be in the future.")})
    if disbursed_on >= contract.first_due_date:
        raise ValidationError(
            {
                "disbursed_on": _("The money must be disbursed before the first due date (%(date)s).")
                % {"date": date_format(contract.first_due_date)}
            }
        )
    bank_name = clean_text(bank_name, "bank_name", _("Enter the bank of the borrower's account."), 100)
    number = _clean_account_number(account_number)
    reference = clean_text(bank_reference, "bank_reference", _("Enter the bank's reference of the transfer."), 64)
    if Disbursement.objects.filter(bank_reference=reference).exists():
        raise ValidationError({"bank_reference": _("This bank reference is already recorded for another transfer.")})
    disbursement = Disbursement(
        contract=contract,
        amount=contract.amount,
        disbursed_on=disbursed_on,
        bank_name=bank_name,
        account_number=number,
        account_masked=mask_bank_account(number),
        bank_reference=reference,
        prepared_by=by,
    )
    disbursement._history_user = by
    try:
        with transaction.atomic():
            disbursement.save()
    except IntegrityError:
        raise TransitionError(
            _("Someone else has just recorded this disbursement or this bank reference. Nothing was saved.")
        ) from None
    return disbursement


@transaction.atomic
def disbursement_confirm(*, disbursement: Disbursement, by: User) -> Loan:
    """A second person confirms the transfer: the loan starts with schedule version 1 and the application becomes
    `disbursed`; `loan_disbursed` is sent after commit. Returns the new loan."""
    require(by, "disbursement.confirm")
    contract = Contract.objects.select_for_update().select_related("application").get(pk=disbursement.contract_id)
    require_in_scope(by, contract, _("This contract belongs to another branch."))
    require_checker(by, disbursement.prepared_by_id)
    if disbursement.amount != contract.amount:
        raise ValidationError(
            _("The disbursed amount %(amount)s differs from the contract amount %(contract)s.")
            % {"amount": format_yuan(disbursement.amount), "contract": format_yuan(contract.amount)}
        )
    disbursement.confirm(by=by)
    loan = loan_start(contract=contract, disbursed_on=disbursement.disbursed_on, by=by)
    loan_refresh_summary(loan, by=by)
    contract.application.mark_disbursed(by=by)
    loan_event(
        loan,
        kind=LoanEvent.Kind.DISBURSED,
        by=by,
        amount=loan.principal,
        disbursed_on=loan.disbursed_on,
        bank_reference=disbursement.bank_reference,
        prepared_by=disbursement.prepared_by_id,
    )
    loan_id = loan.pk
    # robust: a failing receiver is logged and must not turn a committed disbursement into an error page.
    transaction.on_commit(lambda: loan_disbursed.send(sender=Loan, loan_id=loan_id), robust=True)
    return loan


def loan_start(
    *,
    contract: Contract,
    disbursed_on: date,
    by: User,
    paid_installments: int = 0,
    penalty_accrued_through: date | None = None,
) -> Loan:
    """The loan of a disbursed contract with schedule version 1 and its installments; the caller refreshes the
    summary. Shared by `disbursement_confirm` and the migration of existing loans, whose first `paid_installments`
    installments were paid in full, on their due dates, before the loan came to LoanTrack, and whose penalty
    interest starts after `penalty_accrued_through` (the import date)."""
    rows = build_schedule(
        principal=contract.amount,
        annual_rate=contract.annual_rate,
        term_months=contract.term_months,
        method=contract.method,
        first_due_date=contract.first_due_date,
    )
    loan = Loan(
        number=contract.number,
        contract=contract,
        borrower_id=contract.borrower_id,
        branch_id=contract.branch_id,
        officer_id=contract.officer_id,
        product_id=contract.application.product_id,
        principal=contract.amount,
        annual_rate=contract.annual_rate,
        penalty_rate=contract.penalty_rate,
        method=contract.method,
        term_months=contract.term_months,
        disbursed_on=disbursed_on,
        maturity_date=rows[-1].due_date,
        outstanding_principal=contract.amount,
        penalty_accrued_through=penalty_accrued_through,
    )
    loan._history_user = by
    loan.save()
    version = ScheduleVersion.objects.create(
        loan=loan, version=1, reason=ScheduleVersion.Reason.DISBURSEMENT, created_by=by
    )
    installments = []
    for row in rows:
        # A zero-amount row (possible only at a zero rate) is settled from the start.
        paid = row.number <= paid_installments or row.total == 0
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
    bulk_create_with_history(installments, Installment, default_user=by)
    return loan
