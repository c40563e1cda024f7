"""Repayments: preview, posting (idempotent by reference) and reversal by recomputation (DESIGN.md §3).

- Allocation: oldest installment first, penalty → interest → principal (`postloan.allocation.allocate`). A regular
  repayment reaches what is due before today plus the current period's installment (`payable_installments`); the
  loan's credit balance is used first, and what is left over is kept as credit, refused, or prepays principal into
  a new schedule version (`prepayment`), as the officer chooses. Once a payoff stands on the loan, every installment
  is payable.
- Every posting, reversal and payoff locks the loan row first, so the work on one loan is serialised; the unique
  reference makes a repeated posting return the first repayment instead of recording a second.
- A reversal never deletes: it retires the active allocations (`is_active=False`) and re-applies every repayment that
  still stands, in (paid_on, posted_at, pk) order, as a new generation of rows.
"""

from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require, require_checker
from core.dates import local_today
from core.money import format_yuan

from ..allocation import AllocationPlan
from ..models import (
    Allocation,
    Loan,
    LoanEvent,
    Repayment,
    RepaymentKind,
    RepaymentReversal,
    ScheduleVersion,
    TransitionError,
)
from ..models.base import ZERO, record_history
from ..models.repayments import OpeningChannel
from .common import clean_amount, clean_text, loan_event, loan_refresh_summary, require_in_scope
from .ledger import (
    Ledger,
    clean_channel,
    clean_paid_on,
    clean_reference,
    credit_balance,
    existing_repayment,
    hand_back,
    lock_loan,
    require_open,
    save_repayment,
    standing_payoff,
)
from .prepayment import (
    OVERPAYMENT_REDUCE_INSTALLMENT,
    OVERPAYMENT_SHORTEN_TERM,
    PREPAYMENT_OPTIONS,
    PrepaymentPlan,
    prepayment_plan,
)
from .schedule_versions import schedule_version_create

OVERPAYMENT_CREDIT = "credit"  # keep what is left over as the loan's credit balance (挂账)
OVERPAYMENT_REFUSE = "refuse"  # refuse a payment larger than what is payable now
OVERPAYMENT_OPTIONS = (OVERPAYMENT_CREDIT, OVERPAYMENT_REFUSE, OVERPAYMENT_REDUCE_INSTALLMENT, OVERPAYMENT_SHORTEN_TERM)


class RepaymentPreview(NamedTuple):
    plan: AllocationPlan
    # The new schedule a prepayment option would put in force; None when nothing is left over, or for the others.
    prepayment: PrepaymentPlan | None


def repayment_preview(*, loan: Loan, amount, paid_on: date, overpayment: str = "") -> RepaymentPreview:
    """How a payment posted now would be allocated and, for a prepayment option, the schedule it would put in force;
    nothing is written. The form's preview, on every change of its fields.

    The plan's `amount` is the payment plus the loan's credit balance, which is used first. A refused prepayment is a
    ValidationError on `overpayment`.
    """
    amount = clean_amount(amount)
    require_open(loan)
    clean_paid_on(loan, paid_on)
    ledger = Ledger(loan, today=local_today())
    plan = ledger.plan(credit_balance(loan) + amount, everything=standing_payoff(loan) is not None)
    return RepaymentPreview(plan, _prepayment(loan, ledger, plan, overpayment))


def _prepayment(loan: Loan, ledger: Ledger, plan: AllocationPlan, overpayment: str) -> PrepaymentPlan | None:
    if overpayment not in PREPAYMENT_OPTIONS or plan.leftover <= 0:
        return None
    return prepayment_plan(
        option=overpayment,
        method=loan.method,
        annual_rate=loan.annual_rate,
        installments=[item.as_state() for item in ledger.installments],
        today=ledger.today,
        leftover=plan.leftover,
    )


def repayment_post(
    *,
    loan: Loan,
    amount,
    paid_on: date,
    reference: str,
    channel: str,
    by: User,
    overpayment: str = OVERPAYMENT_CREDIT,
) -> Repayment:
    """Post money received: allocate it, update the installments and the loan, and record it on the timeline.

    Idempotent: a reference already posted on this loan for this amount returns that repayment (its
    `was_posted_before` set) and records nothing.
    `overpayment="refuse"` refuses an amount larger than what is payable now instead of keeping the rest as credit;
    `"reduce_installment"` and `"shorten_term"` prepay principal with it and put a new schedule version in force
    (`loan_rescheduled` is sent after commit).
    """
    require(by, "repayment.post")
    require_in_scope(by, loan, _("This loan belongs to another branch."))
    amount = clean_amount(amount)
    reference = clean_reference(reference)
    clean_channel(channel)
    if overpayment not in OVERPAYMENT_OPTIONS:
        raise ValueError(f"overpayment must be one of {OVERPAYMENT_OPTIONS!r}, not {overpayment!r}")
    kind = RepaymentKind.REGULAR
    with transaction.atomic():
        locked = lock_loan(loan)
        # Looked for under the lock: a concurrent posting of the same reference has committed by then, or not begun.
        existing = existing_repayment(reference, loan=locked, kind=kind, amount=amount)
        if existing is not None:
            return existing
        require_open(locked)
        paid_on = clean_paid_on(locked, paid_on)
        today = local_today()
        ledger = Ledger(locked, today=today)
        credit = credit_balance(locked)
        plan = ledger.plan(credit + amount, everything=standing_payoff(locked) is not None)
        if overpayment == OVERPAYMENT_REFUSE and plan.leftover > 0:
            raise ValidationError(
                {
                    "amount": _("At most %(payable)s is payable now; this payment is %(extra)s more.")
                    % {"payable": format_yuan(plan.allocated - credit), "extra": format_yuan(plan.leftover)}
                }
            )
        prepayment = _prepayment(locked, ledger, plan, overpayment)
        if prepayment is not None:
            # The leftover goes to principal of the later installments instead of the credit balance.
            plan = AllocationPlan(amount=plan.amount, lines=plan.lines + prepayment.lines, leftover=ZERO)
        repayment = Repayment(
            loan=locked, reference=reference, amount=amount, paid_on=paid_on, channel=channel, kind=kind, posted_by=by
        )
        repayment._history_user = by
        winner = save_repayment(repayment, loan=locked, amount=amount)
        if winner is not None:
            return winner
        credit_after = ledger.apply(
            plan, repayment=repayment, credit_before=credit, generation=locked.allocation_generation
        )
        ledger.write(by)
        loan_event(
            locked,
            kind=LoanEvent.Kind.REPAYMENT,
            by=by,
            repayment=repayment.pk,
            reference=reference,
            amount=amount,
            paid_on=paid_on,
            penalty=plan.penalty,
            interest=plan.interest,
            principal=plan.principal,
            to_credit=plan.leftover - credit,
            **({"prepaid": prepayment.principal} if prepayment is not None else {}),
        )
        if prepayment is not None:
            # The prepayment put a new schedule in force: its installments are read again.
            _put_prepayment_in_force(locked, prepayment, repayment=repayment, by=by)
        current = ledger.installments if prepayment is None else None
        loan_refresh_summary(locked, by=by, today=today, installments=current, credit=credit_after)
    hand_back(loan, locked)
    return repayment


def _put_prepayment_in_force(loan: Loan, prepayment: PrepaymentPlan, *, repayment: Repayment, by: User) -> None:
    """Schedule version N+1 from the prepayment plan, and its line on the timeline."""
    previous = {"version": loan.current_version, "maturity": loan.maturity_date, "term": loan.term_months}
    if prepayment.option == OVERPAYMENT_REDUCE_INSTALLMENT:
        note = _("%(principal)s of principal prepaid: the installments go down from %(old)s to %(new)s.") % {
            "principal": format_yuan(prepayment.principal),
            "old": format_yuan(prepayment.old_payment),
            "new": format_yuan(prepayment.new_payment),
        }
    else:
        note = _("%(principal)s of principal prepaid: the loan now matures on %(new)s instead of %(old)s.") % {
            "principal": format_yuan(prepayment.principal),
            "old": prepayment.old_maturity.isoformat(),
            "new": prepayment.new_maturity.isoformat(),
        }
    version = schedule_version_create(
        loan=loan,
        rows=prepayment.new_rows,
        reason=ScheduleVersion.Reason.PREPAYMENT,
        by=by,
        note=note,
        # The version starts after the repayment that made it, even on a clock that stands still: a reversal
        # recomputes only the repayments posted since the version in force started.
        created_at=max(timezone.now(), repayment.posted_at + timedelta(microseconds=1)),
    )
    loan_event(
        loan,
        kind=LoanEvent.Kind.NOTE,
        by=by,
        note=note,
        event="prepayment",
        option=prepayment.option,
        repayment=repayment.pk,
        reference=repayment.reference,
        principal=prepayment.principal,
        version=version.version,
        from_version=previous["version"],
        from_maturity=previous["maturity"],
        maturity=loan.maturity_date,
        from_term_months=previous["term"],
        term_months=loan.term_months,
        old_payment=prepayment.old_payment,
        new_payment=prepayment.new_payment,
    )


# --- reversal -----------------------------------------------------------------------------------------------------
def _reapply(loan: Loan, *, by: User, since: datetime, clear_waivers: bool, today: date) -> int:
    """Recompute the allocations of the repayments posted since the schedule version in force took effect.

    Retires their active rows, resets the installments to what the remaining active rows pay, and re-applies each
    repayment that still stands, in (paid_on, posted_at, pk) order, as generation + 1. Returns the new generation.
    What a repayment may reach is judged on `today`, as if any credit it left had been used on the installments that
    fell due since (which the next posting, or the sweep, would have done).
    """
    generation = loan.allocation_generation + 1
    Allocation.objects.filter(loan=loan, is_active=True, repayment__posted_at__gte=since).update(
        is_active=False, superseded_at=timezone.now()
    )
    remaining = Allocation.objects.filter(loan=loan, is_active=True)
    kept = {
        row["installment"]: (row["penalty"], row["interest"], row["principal"])
        for row in remaining.filter(installment__isnull=False)
        .values("installment")
        .annotate(penalty=Sum("penalty"), interest=Sum("interest"), principal=Sum("principal"))
    }
    ledger = Ledger(loan, today=today)
    ledger.reset(clear_waivers=clear_waivers, kept=kept)
    credit = remaining.aggregate(total=Sum("to_credit", default=ZERO))["total"]
    payoff_seen = Repayment.objects.filter(
        loan=loan, kind=RepaymentKind.PAYOFF, is_reversed=False, posted_at__lt=since
    ).exists()
    standing = Repayment.objects.filter(loan=loan, is_reversed=False, posted_at__gte=since).order_by(
        "paid_on", "posted_at", "pk"
    )
    for repayment in standing:
        payoff_seen = payoff_seen or repayment.kind == RepaymentKind.PAYOFF
        plan = ledger.plan(credit + repayment.amount, everything=payoff_seen)
        credit = ledger.apply(plan, repayment=repayment, credit_before=credit, generation=generation)
    ledger.write(by)
    loan.allocation_generation = generation
    return generation


def repayment_reverse(*, repayment: Repayment, by: User, reason: str) -> RepaymentReversal:
    """Take back a repayment (a bounced transfer, a posting on the wrong loan), by someone other than its poster.

    Nothing is deleted: the repayment is marked reversed and the loan's allocations are recomputed from scratch.
    """
    require(by, "repayment.reverse")
    require_in_scope(by, repayment.loan, _("This loan belongs to another branch."))
    if repayment.channel == OpeningChannel.MIGRATED:
        raise TransitionError(
            _("The payments made before the migration cannot be reversed here; correct them with a restructuring.")
        )
    require_checker(by, repayment.posted_by_id)
    reason = clean_text(reason, "reason", _("Say why the repayment is reversed."))
    with transaction.atomic():
        loan = lock_loan(repayment.loan)
        repayment = Repayment.objects.get(pk=repayment.pk)
        if repayment.is_reversed:
            raise TransitionError(_("This repayment has already been reversed."))
        version = loan.schedule_versions.get(version=loan.current_version)
        if repayment.posted_at < version.created_at:
            raise TransitionError(
                _(
                    "This repayment predates the schedule in force (version %(version)s); it cannot be reversed. "
                    "A restructuring can correct the schedule instead."
                )
                % {"version": version.version}
            )
        updated = Repayment.objects.filter(pk=repayment.pk, is_reversed=False).update(is_reversed=True)
        if not updated:
            raise TransitionError(_("Someone else has just reversed this repayment. Nothing was saved."))
        repayment.is_reversed = True
        record_history(repayment, by)
        reversal = RepaymentReversal.objects.create(repayment=repayment, reason=reason, reversed_by=by)
        today = local_today()
        generation = _reapply(
            loan, by=by, since=version.created_at, clear_waivers=repayment.kind == RepaymentKind.PAYOFF, today=today
        )
        loan_event(
            loan,
            kind=LoanEvent.Kind.REVERSAL,
            by=by,
            note=reason,
            repayment=repayment.pk,
            reference=repayment.reference,
            amount=repayment.amount,
            generation=generation,
        )
        loan_refresh_summary(loan, by=by, today=today)
    return reversal
