"""Restructuring (调整还款计划): the preview, the request, two approvals (risk officer, then manager), and the new
schedule version that the final approval puts in force.

The new schedule repays the principal still owed on the current version (overdue principal included) from
`first_due_date`, over the months left to the current maturity plus `extend_months`, at the new rate and method if
given; `grace_months` interest-only months at its start are part of that term. Paid installments, their allocations
and the old version's rows stay as they are (`schedule_versions.schedule_version_create` puts N+1 in force).

Overdue interest and penalty are never capitalised: everything but principal that fell due up to today must be paid
before the preview is shown or the request approved (both refuse until then). Capitalising would lend the borrower
interest on interest (复利 on arrears, which courts and regulators frown on) and would push the principal owed above
the contract amount, which the loan's own constraint forbids; the arrears are usually small beside the principal
that restructuring defers. The request itself may be filed before they are paid, so the officer can start the
approvals while the borrower settles them.

Interest already paid on an unpaid installment due after today (a partly paid current installment) counts towards
the first interest of the new schedule, so no period is charged twice.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can, require
from core.dates import add_months, local_today
from core.money import format_yuan, percent, round_money, round_rate, to_decimal
from core.schedules import ScheduleMethod, ScheduleRow, build_schedule

from ..models import (
    OPEN_LOAN_STATUSES,
    OPEN_RESTRUCTURING_STATUSES,
    Installment,
    InstallmentStatus,
    Loan,
    LoanEvent,
    Restructuring,
    RestructuringStatus,
    ScheduleVersion,
    TransitionError,
)
from ..models.base import ZERO, record_history
from .common import clean_text, loan_event, loan_refresh_summary, require_in_scope
from .ledger import lock_loan
from .schedule_versions import months_to_maturity, schedule_version_create

# A term extension beyond five years is a new loan, not a restructuring.
MAX_EXTENSION_MONTHS = 60
MAX_GRACE_MONTHS = 12
# As for a contract: the first period of the new schedule is charged one month's interest, so it starts soon.
MAX_FIRST_PERIOD_MONTHS = 2
# A restructured loan stays at least "special mention" for this long after approval (DESIGN.md §4).
OBSERVATION_MONTHS = 6
_HUNDRED = Decimal(100)
_TWELVE = Decimal(12)


@dataclass(frozen=True)
class RestructuringPreview:
    """The current schedule's unpaid rows beside the schedule a restructuring would put in force, on `on_date`.

    `old_rows` show what is still owed on each unpaid installment of the current version; `new_rows` the new
    schedule, numbered from 1. Interest totals compare what is left to pay under each.
    """

    on_date: date
    outstanding_principal: Decimal
    interest_paid_ahead: Decimal  # paid on a superseded installment not yet due; taken off the first new interest
    old_rows: tuple[ScheduleRow, ...]
    old_method: str
    old_rate: Decimal
    old_maturity: date
    old_payment: Decimal | None  # the scheduled total of the next installment due after on_date
    new_rows: tuple[ScheduleRow, ...]
    method: str
    annual_rate: Decimal
    term_months: int
    grace_months: int
    first_due_date: date
    new_maturity: date

    @property
    def old_interest(self) -> Decimal:
        return sum((row.interest for row in self.old_rows), ZERO)

    @property
    def new_interest(self) -> Decimal:
        return sum((row.interest for row in self.new_rows), ZERO)

    @property
    def interest_change(self) -> Decimal:
        """More (positive) or less (negative) interest left to pay under the new schedule."""
        return self.new_interest - self.old_interest

    @property
    def grace_payment(self) -> Decimal | None:
        """What an interest-only month costs; None without a grace period."""
        return self.new_rows[0].total if self.grace_months else None

    @property
    def new_payment(self) -> Decimal:
        """The first regular payment of the new schedule, after any interest-only months."""
        return self.new_rows[self.grace_months].total


@dataclass(frozen=True)
class _Options:
    """Cleaned options; a method or rate equal to the current one is no change and is kept blank/None."""

    extend_months: int
    new_method: str
    grace_months: int
    new_rate: Decimal | None
    first_due_date: date

    def any(self) -> bool:
        return bool(self.extend_months or self.new_method or self.grace_months or self.new_rate is not None)


# --- input --------------------------------------------------------------------------------------------------------
def _months(value, field: str, errors: dict) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors[field] = _("Enter a whole number of months, 0 or more.")
        return 0
    return value


def _clean_rate(loan: Loan, value, errors: dict) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        rate = to_decimal(value)
    except (TypeError, ValueError, InvalidOperation):
        errors["new_rate"] = _("Enter a rate in percent per year, e.g. 4.35.")
        return None
    if rate < 0:
        errors["new_rate"] = _("The rate cannot be negative.")
    elif round_rate(rate) != rate:
        errors["new_rate"] = _("The rate can have at most four decimals.")
    elif rate > loan.annual_rate:
        errors["new_rate"] = _(
            "A restructuring may only lower the rate; the new rate cannot be above the current %(rate)s."
        ) % {"rate": percent(loan.annual_rate)}
    else:
        rate = round_rate(rate)
        return None if rate == loan.annual_rate else rate
    return None


def _clean_method(loan: Loan, value: str, errors: dict) -> str:
    method = (value or "").strip()
    if not method or method == loan.method:
        return ""
    product = loan.product
    if method not in ScheduleMethod.values or method not in (product.methods or []):
        errors["new_method"] = _("Choose one of the repayment methods of the product %(product)s.") % {
            "product": product
        }
        return ""
    return method


def _remaining_months(first_due_date: date, maturity: date) -> int:
    """Calendar months from the new first due date to the current maturity, both counted; at least one."""
    return months_to_maturity(first_due_date, maturity)


def _clean_options(
    loan: Loan,
    installments: list[Installment],
    *,
    extend_months,
    new_method,
    grace_months,
    new_rate,
    first_due_date,
    today: date,
    check_window: bool,
) -> _Options:
    """Check the options against the loan; a ValidationError carries a message per field."""
    errors: dict[str, str] = {}
    extend = _months(extend_months, "extend_months", errors)
    grace = _months(grace_months, "grace_months", errors)
    if extend > MAX_EXTENSION_MONTHS:
        errors["extend_months"] = _("The term can be extended by at most %(count)s months.") % {
            "count": MAX_EXTENSION_MONTHS
        }
    if grace > MAX_GRACE_MONTHS:
        errors["grace_months"] = _("At most %(count)s interest-only months.") % {"count": MAX_GRACE_MONTHS}
    rate = _clean_rate(loan, new_rate, errors)
    method = _clean_method(loan, new_method, errors)

    if isinstance(first_due_date, datetime) or not isinstance(first_due_date, date):
        errors["first_due_date"] = _("Enter the first due date of the new schedule.")
    elif first_due_date <= today:
        errors["first_due_date"] = _("The first due date of the new schedule must be after today.")
    elif check_window and first_due_date > add_months(today, MAX_FIRST_PERIOD_MONTHS):
        errors["first_due_date"] = _("The first due date of the new schedule must be within two months of today.")
    else:
        # An installment already paid that falls due on or after the new start would be charged twice.
        paid_later = [
            item
            for item in installments
            if item.status == InstallmentStatus.PAID and item.total_due > 0 and item.due_date >= first_due_date
        ]
        if paid_later:
            last = max(paid_later, key=lambda item: item.due_date)
            errors["first_due_date"] = _(
                "Installment %(number)s, due %(date)s, is already paid; the new schedule must start after it."
            ) % {"number": last.number, "date": date_format(last.due_date)}
        elif "grace_months" not in errors and "extend_months" not in errors:
            term = _remaining_months(first_due_date, loan.maturity_date) + extend
            if grace >= term:
                errors["grace_months"] = _(
                    "The new term is %(term)s months; the interest-only months must leave at least one month to "
                    "repay the principal."
                ) % {"term": term}
    if errors:
        raise ValidationError(errors)
    options = _Options(extend, method, grace, rate, first_due_date)
    if not options.any():
        raise ValidationError(
            {
                NON_FIELD_ERRORS: _(
                    "Choose at least one change: a longer term, another repayment method, interest-only months "
                    "or a lower rate."
                )
            }
        )
    return options


def _require_open_loan(loan: Loan) -> None:
    if loan.status not in OPEN_LOAN_STATUSES:
        raise TransitionError(
            _("Only an active or overdue loan can be restructured; this one is “%(status)s”.")
            % {"status": loan.get_status_display()}
        )


def _require_no_arrears(installments: list[Installment], today: date) -> None:
    due = [item for item in installments if item.due_date <= today]
    interest = sum((item.interest_outstanding for item in due), ZERO)
    penalty = sum((item.penalty_outstanding for item in due), ZERO)
    if interest or penalty:
        raise TransitionError(
            _(
                "%(interest)s of interest and %(penalty)s of penalty interest are due and unpaid. They must be paid "
                "before the schedule is restructured; the unpaid principal moves into the new schedule."
            )
            % {"interest": format_yuan(interest), "penalty": format_yuan(penalty)}
        )


# --- the schedule -------------------------------------------------------------------------------------------------
def _new_rows(
    *, principal: Decimal, rate: Decimal, method: str, term: int, grace: int, first_due: date, paid_ahead: Decimal
) -> list[ScheduleRow]:
    """Interest-only rows for the grace months, then `method` over the rest; dates monthly on first_due's day."""
    monthly_interest = round_money(principal * rate / _HUNDRED / _TWELVE)
    rows = [
        ScheduleRow(number, first_due, ZERO, monthly_interest, monthly_interest, principal)
        for number in range(1, grace + 1)
    ]
    rows += build_schedule(
        principal=principal,
        annual_rate=rate,
        term_months=term - grace,
        method=method,
        first_due_date=add_months(first_due, grace, day=first_due.day),
    )
    dated = []
    left = paid_ahead
    for number, row in enumerate(rows, start=1):
        # Every row is dated from the one anchor: the rest, built from a clipped date (31 Jan + 1 month = 28 Feb),
        # would otherwise fall due on the 28th ever after. A bullet's one row falls due at the new maturity.
        month = term if method == ScheduleMethod.BULLET and number > grace else number
        due = add_months(first_due, month - 1, day=first_due.day)
        credit = min(left, row.interest)
        left -= credit
        dated.append(
            replace(row, number=number, due_date=due, interest=row.interest - credit, total=row.total - credit)
        )
    return dated


def _preview(loan: Loan, installments: list[Installment], options: _Options, today: date) -> RestructuringPreview:
    """The preview from installments in memory (no database access)."""
    _require_no_arrears(installments, today)
    ordered = sorted(installments, key=lambda item: (item.due_date, item.number))
    unpaid = [item for item in ordered if item.outstanding > 0]
    principal = sum((item.principal_outstanding for item in ordered), ZERO)
    if principal <= 0:
        raise TransitionError(_("No principal is left to reschedule on this loan."))
    paid_ahead = sum((item.interest_paid for item in unpaid if item.due_date > today), ZERO)
    old_rows, remaining = [], principal
    for item in unpaid:
        remaining -= item.principal_outstanding
        old_rows.append(
            ScheduleRow(
                item.number,
                item.due_date,
                item.principal_outstanding,
                item.interest_outstanding,
                item.principal_outstanding + item.interest_outstanding,
                remaining,
            )
        )
    upcoming = next((item for item in ordered if item.due_date > today), None)
    rate = loan.annual_rate if options.new_rate is None else options.new_rate
    method = options.new_method or loan.method
    term = _remaining_months(options.first_due_date, loan.maturity_date) + options.extend_months
    rows = _new_rows(
        principal=principal,
        rate=rate,
        method=method,
        term=term,
        grace=options.grace_months,
        first_due=options.first_due_date,
        paid_ahead=paid_ahead,
    )
    return RestructuringPreview(
        on_date=today,
        outstanding_principal=principal,
        interest_paid_ahead=paid_ahead,
        old_rows=tuple(old_rows),
        old_method=loan.method,
        old_rate=loan.annual_rate,
        old_maturity=loan.maturity_date,
        old_payment=upcoming.principal_due + upcoming.interest_owed if upcoming else None,
        new_rows=tuple(rows),
        method=method,
        annual_rate=rate,
        term_months=term,
        grace_months=options.grace_months,
        first_due_date=options.first_due_date,
        new_maturity=rows[-1].due_date,
    )


# --- services -----------------------------------------------------------------------------------------------------
def restructuring_preview(
    *,
    loan: Loan,
    extend_months: int = 0,
    new_method: str = "",
    grace_months: int = 0,
    new_rate=None,
    first_due_date: date,
) -> RestructuringPreview:
    """The current schedule's unpaid rows beside the new one these options would give today; nothing is written.

    Refuses (TransitionError) while interest or penalty due up to today is unpaid: see the module docstring.
    """
    _require_open_loan(loan)
    today = local_today()
    installments = list(loan.current_installments())
    options = _clean_options(
        loan,
        installments,
        extend_months=extend_months,
        new_method=new_method,
        grace_months=grace_months,
        new_rate=new_rate,
        first_due_date=first_due_date,
        today=today,
        check_window=True,
    )
    return _preview(loan, installments, options, today)


def restructuring_request(
    *,
    loan: Loan,
    by: User,
    reason: str,
    extend_months: int = 0,
    new_method: str = "",
    grace_months: int = 0,
    new_rate=None,
    first_due_date: date,
    source_note: str = "",
) -> Restructuring:
    """Ask for a new schedule (an officer or risk officer of the loan's branch); a risk officer, then a manager,
    approve it. One open request per loan; the options are checked now and again at the final approval."""
    require(by, "restructuring.request")
    require_in_scope(by, loan, _("This loan belongs to another branch."))
    reason = clean_text(reason, "reason", _("Say why the borrower needs a new schedule."))
    source_note = (source_note or "").strip()
    if len(source_note) > 200:
        raise ValidationError({"source_note": _("At most %(count)s characters, please.") % {"count": 200}})
    with transaction.atomic():
        loan = Loan.objects.get(pk=loan.pk)
        _require_open_loan(loan)
        options = _clean_options(
            loan,
            list(loan.current_installments()),
            extend_months=extend_months,
            new_method=new_method,
            grace_months=grace_months,
            new_rate=new_rate,
            first_due_date=first_due_date,
            today=local_today(),
            check_window=True,
        )
        waiting = _("A restructuring request is already waiting for this loan.")
        if Restructuring.objects.filter(loan=loan, status__in=OPEN_RESTRUCTURING_STATUSES).exists():
            raise TransitionError(waiting)
        restructuring = Restructuring(
            loan=loan,
            reason=reason,
            extend_months=options.extend_months,
            new_method=options.new_method,
            grace_months=options.grace_months,
            new_rate=options.new_rate,
            first_due_date=options.first_due_date,
            source_note=source_note,
            requested_by=by,
        )
        restructuring._history_user = by
        try:
            with transaction.atomic():
                restructuring.save()
        except IntegrityError:
            # A simultaneous request won the one-open-request-per-loan constraint.
            if Restructuring.objects.filter(loan=loan, status__in=OPEN_RESTRUCTURING_STATUSES).exists():
                raise TransitionError(waiting) from None
            raise
        loan_event(
            loan,
            kind=LoanEvent.Kind.NOTE,
            by=by,
            note=reason,
            event="restructuring_requested",
            restructuring=restructuring.pk,
            extend_months=options.extend_months,
            new_method=options.new_method,
            grace_months=options.grace_months,
            new_rate=options.new_rate,
            first_due_date=options.first_due_date,
        )
    return restructuring


def _waiting_for(restructuring: Restructuring, status: str) -> None:
    if restructuring.status != status:
        raise TransitionError(
            _("This restructuring request is “%(status)s”; it cannot be decided on now.")
            % {"status": restructuring.get_status_display()}
        )


def _lost_race() -> TransitionError:
    return TransitionError(_("Someone else has just decided on this restructuring request. Nothing was saved."))


def _with_note(restructuring: Restructuring, note: str) -> str:
    return "\n".join(text for text in (restructuring.decision_note, note) if text)


def restructuring_risk_approve(*, restructuring: Restructuring, by: User, note: str = "") -> Restructuring:
    """The risk officer's approval, by someone other than the requester; the request then waits for a manager."""
    require(by, "restructuring.risk_approve")
    require_in_scope(by, restructuring.loan, _("This loan belongs to another branch."))
    if by.pk == restructuring.requested_by_id:
        raise PermissionDenied(_("You requested this restructuring yourself; another risk officer must approve it."))
    note = (note or "").strip()
    with transaction.atomic():
        current = Restructuring.objects.select_related("loan").get(pk=restructuring.pk)
        _waiting_for(current, RestructuringStatus.REQUESTED)
        _require_open_loan(current.loan)
        now = timezone.now()
        decision_note = _with_note(current, note)
        updated = Restructuring.objects.filter(pk=current.pk, status=RestructuringStatus.REQUESTED).update(
            status=RestructuringStatus.RISK_APPROVED,
            risk_approved_by=by,
            risk_approved_at=now,
            decision_note=decision_note,
        )
        if not updated:
            raise _lost_race()
        current.status, current.risk_approved_by, current.risk_approved_at = RestructuringStatus.RISK_APPROVED, by, now
        current.decision_note = decision_note
        record_history(current, by)
        loan_event(
            current.loan,
            kind=LoanEvent.Kind.NOTE,
            by=by,
            note=note,
            event="restructuring_risk_approved",
            restructuring=current.pk,
        )
    restructuring.refresh_from_db()
    return restructuring


def restructuring_approve(*, restructuring: Restructuring, by: User, note: str = "") -> Restructuring:
    """The manager's final approval, by someone who neither requested nor risk-approved it: schedule version N+1,
    computed now from the loan as it stands, comes into force; `loan_rescheduled` is sent after commit."""
    require(by, "restructuring.approve")
    require_in_scope(by, restructuring.loan, _("This loan belongs to another branch."))
    note = (note or "").strip()
    with transaction.atomic():
        # The loan lock serialises this with repayments, payoffs and a second approval of the same request.
        loan = lock_loan(restructuring.loan)
        current = Restructuring.objects.get(pk=restructuring.pk)
        _waiting_for(current, RestructuringStatus.RISK_APPROVED)
        if by.pk in (current.requested_by_id, current.risk_approved_by_id):
            raise PermissionDenied(
                _(
                    "You requested or approved this restructuring already; another colleague must give the final "
                    "approval."
                )
            )
        _require_open_loan(loan)
        today = local_today()
        installments = list(loan.current_installments())
        try:
            options = _clean_options(
                loan,
                installments,
                extend_months=current.extend_months,
                new_method=current.new_method,
                grace_months=current.grace_months,
                new_rate=current.new_rate,
                first_due_date=current.first_due_date,
                today=today,
                check_window=False,
            )
        except ValidationError as error:
            raise TransitionError(
                _("This request no longer fits the loan: %(reasons)s Reject it and request again.")
                % {"reasons": " ".join(error.messages)}
            ) from None
        preview = _preview(loan, installments, options, today)

        now = timezone.now()
        decision_note = _with_note(current, note)
        updated = Restructuring.objects.filter(pk=current.pk, status=RestructuringStatus.RISK_APPROVED).update(
            status=RestructuringStatus.APPROVED, approved_by=by, approved_at=now, decision_note=decision_note
        )
        if not updated:
            raise _lost_race()
        previous = {
            "version": loan.current_version,
            "maturity": loan.maturity_date,
            "term": loan.term_months,
            "method": loan.method,
            "rate": loan.annual_rate,
        }
        loan.restructured = True
        loan.observation_until = add_months(today, OBSERVATION_MONTHS)
        loan.method = preview.method
        loan.annual_rate = preview.annual_rate
        version = schedule_version_create(
            loan=loan,
            rows=preview.new_rows,
            reason=ScheduleVersion.Reason.RESTRUCTURING,
            by=by,
            note=current.reason,
            also_save=["restructured", "observation_until", "method", "annual_rate"],
        )
        number = version.version
        Restructuring.objects.filter(pk=current.pk).update(new_version=version)
        current.status, current.approved_by, current.approved_at = RestructuringStatus.APPROVED, by, now
        current.decision_note, current.new_version = decision_note, version
        record_history(current, by)
        loan_event(
            loan,
            kind=LoanEvent.Kind.RESTRUCTURED,
            by=by,
            note=note,
            restructuring=current.pk,
            version=number,
            from_version=previous["version"],
            principal=preview.outstanding_principal,
            from_maturity=previous["maturity"],
            maturity=preview.new_maturity,
            from_term_months=previous["term"],
            term_months=loan.term_months,
            from_method=previous["method"],
            method=preview.method,
            from_rate=previous["rate"],
            rate=preview.annual_rate,
            grace_months=preview.grace_months,
            old_interest=preview.old_interest,
            new_interest=preview.new_interest,
            observation_until=loan.observation_until,
        )
        loan_refresh_summary(loan, by=by, today=today)
    restructuring.refresh_from_db()
    return restructuring


def restructuring_reject(*, restructuring: Restructuring, by: User, note: str) -> Restructuring:
    """Turn the request down, with a reason: a risk officer while it waits for one, a manager after that; never the
    requester (who withdraws instead) or the risk officer who approved it."""
    if not (can(by, "restructuring.risk_approve") or can(by, "restructuring.approve")):
        raise PermissionDenied(_("Your role does not allow this."))
    require_in_scope(by, restructuring.loan, _("This loan belongs to another branch."))
    note = clean_text(note, "note", _("Say why the restructuring is rejected."))
    with transaction.atomic():
        current = Restructuring.objects.select_related("loan").get(pk=restructuring.pk)
        if current.status not in OPEN_RESTRUCTURING_STATUSES:
            _waiting_for(current, RestructuringStatus.REQUESTED)
        step = current.status
        require(by, "restructuring.risk_approve" if step == RestructuringStatus.REQUESTED else "restructuring.approve")
        if by.pk in (current.requested_by_id, current.risk_approved_by_id):
            raise PermissionDenied(
                _("You requested or approved this restructuring already; another colleague must decide on it.")
            )
        now = timezone.now()
        decision_note = _with_note(current, note)
        updated = Restructuring.objects.filter(pk=current.pk, status=step).update(
            status=RestructuringStatus.REJECTED, rejected_by=by, rejected_at=now, decision_note=decision_note
        )
        if not updated:
            raise _lost_race()
        current.status, current.rejected_by, current.rejected_at = RestructuringStatus.REJECTED, by, now
        current.decision_note = decision_note
        record_history(current, by)
        loan_event(
            current.loan,
            kind=LoanEvent.Kind.NOTE,
            by=by,
            note=note,
            event="restructuring_rejected",
            restructuring=current.pk,
            step=step,
        )
    restructuring.refresh_from_db()
    return restructuring


def restructuring_withdraw(*, restructuring: Restructuring, by: User) -> Restructuring:
    """The requester takes back a request still waiting for an approval."""
    require(by, "restructuring.request")
    if by.pk != restructuring.requested_by_id:
        raise PermissionDenied(_("Only the colleague who requested this restructuring may withdraw it."))
    require_in_scope(by, restructuring.loan, _("This loan belongs to another branch."))
    with transaction.atomic():
        current = Restructuring.objects.select_related("loan").get(pk=restructuring.pk)
        if current.status not in OPEN_RESTRUCTURING_STATUSES:
            raise TransitionError(
                _("This restructuring request is “%(status)s”; it can no longer be withdrawn.")
                % {"status": current.get_status_display()}
            )
        updated = Restructuring.objects.filter(pk=current.pk, status__in=OPEN_RESTRUCTURING_STATUSES).update(
            status=RestructuringStatus.WITHDRAWN
        )
        if not updated:
            raise _lost_race()
        current.status = RestructuringStatus.WITHDRAWN
        record_history(current, by)
        loan_event(
            current.loan,
            kind=LoanEvent.Kind.NOTE,
            by=by,
            event="restructuring_withdrawn",
            restructuring=current.pk,
        )
    restructuring.refresh_from_db()
    return restructuring
