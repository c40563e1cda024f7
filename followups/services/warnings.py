"""Risk warnings (风险预警, DESIGN.md §5): opened by a follow-up with a high risk level or a serious signal, or by three
failed contact attempts; handled by the risk officers of the loan's branch: open → acknowledged → resolved.

- One warning per follow-up (a unique constraint): completing a record again after it was returned, or two workers at
  once, never opens a second one, and the risk officers are told once.
- It must be acknowledged within one business day (same local time on the next business day, Asia/Shanghai); an open
  warning past that time is "breached" (`annotate_ack_breach`, `is_ack_breached`).
- Actions are recorded on the warning (`WarningAction`): an extra follow-up, a restructuring request and a
  classification change request (made through the post-loan services, whose refusals pass through unchanged), and an
  escalation to the branch managers. Taking an action on an open warning acknowledges it implicitly, by the person
  acting: nobody acts on a warning without having seen it. A refused action changes nothing, not even that.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import BooleanField as BooleanOutput
from django.db.models import Case, Max, Q, QuerySet, Value, When
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import holders_of, require, scope
from accounts.roles import Role
from core.dates import SHANGHAI, add_business_days, local_today
from notifications.models import OutboxMessage
from notifications.services import message_queue
from postloan.models import Loan, TransitionError
from postloan.models.base import record_history
from postloan.services import classification_propose, restructuring_request
from postloan.services.common import clean_text, require_in_scope

from ..models import ContactAttempt, FollowUp, FollowUpKind, RiskWarning, WarningAction, WarningStatus
from ..models.followups import RiskLevel, RiskSignal

OPENED_TEMPLATE = "followup_warning_opened"
ESCALATED_TEMPLATE = "followup_warning_escalated"
# Every signal a record can carry is serious enough to open a warning (issue 6); a record without any signal opens
# one only when its overall risk level is high.
SERIOUS_SIGNALS = frozenset(RiskSignal.values)
HANDLING_STATUSES = (WarningStatus.OPEN, WarningStatus.ACKNOWLEDGED)
ACKNOWLEDGE_BUSINESS_DAYS = 1
MAX_NOTE_LENGTH = 2000


# --- rules --------------------------------------------------------------------------------------------------------
def warrants_warning(*, risk_level: str, risk_signals) -> bool:
    """Whether a record with this level and these signals opens a risk warning."""
    return risk_level == RiskLevel.HIGH or bool(SERIOUS_SIGNALS & set(risk_signals or ()))


def acknowledge_due(opened_at: datetime) -> datetime:
    """The same local time on the next business day: a warning opened on Friday at 17:00 is due on Monday at 17:00."""
    local = opened_at.astimezone(SHANGHAI)
    day = add_business_days(local.date(), ACKNOWLEDGE_BUSINESS_DAYS)
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=SHANGHAI)


def is_ack_breached(warning: RiskWarning, *, now: datetime | None = None) -> bool:
    """An open warning not acknowledged by its due time."""
    return warning.status == WarningStatus.OPEN and (now or timezone.now()) > warning.acknowledge_due_at


def annotate_ack_breach(queryset: QuerySet, *, now: datetime | None = None) -> QuerySet:
    """Add `is_ack_breached` to each warning. The time is the application's clock, not the database's."""
    breached = Q(status=WarningStatus.OPEN, acknowledge_due_at__lt=now or timezone.now())
    return queryset.annotate(
        is_ack_breached=Case(When(breached, then=Value(True)), default=Value(False), output_field=BooleanOutput())
    )


# --- raising ------------------------------------------------------------------------------------------------------
def warning_raise_for_followup(*, followup: FollowUp) -> RiskWarning | None:
    """Open the one warning of a completed follow-up with a high risk level or a serious signal and tell the branch's
    risk officers; None when the record warrants none or is not about a loan. Idempotent: a follow-up that already
    has its warning (an earlier completion, or lost contact) gets that one back, and nobody is told twice.
    Call it in the transaction that completes the record."""
    if followup.loan_id is None:
        return None
    if not warrants_warning(risk_level=followup.risk_level, risk_signals=followup.risk_signals):
        return None
    signals = [value for value in RiskSignal.values if value in set(followup.risk_signals or ())]
    summary = (followup.summary or "").strip() or _signals_text(signals)
    return _open_warning(followup, level=followup.risk_level or RiskLevel.HIGH, signals=signals, summary=summary)


def warning_raise_lost_contact(*, followup: FollowUp) -> RiskWarning | None:
    """Open the follow-up's warning with the signal `lost contact`, level high: call it when the third contact attempt
    has failed. Idempotent as `warning_raise_for_followup`; None for a follow-up of an application (no loan yet)."""
    if followup.loan_id is None:
        return None
    attempts = list(ContactAttempt.objects.filter(followup=followup).order_by("attempted_at", "pk"))
    summary = _("%(count)s contact attempts failed.") % {"count": len(attempts) or followup.failed_attempts}
    if attempts:
        last = attempts[-1]
        summary += " " + _("The last one, on %(when)s: %(outcome)s.") % {
            "when": date_format(timezone.localtime(last.attempted_at, SHANGHAI), "DATETIME_FORMAT"),
            "outcome": last.get_outcome_display(),
        }
    return _open_warning(followup, level=RiskLevel.HIGH, signals=[RiskSignal.LOST_CONTACT.value], summary=summary)


def _signals_text(signals: list[str]) -> str:
    if not signals:
        return _("The follow-up found a high risk.")
    return _("Risk signals: %(signals)s.") % {"signals": ", ".join(str(RiskSignal(value).label) for value in signals)}


def _open_warning(followup: FollowUp, *, level: str, signals: list[str], summary: str) -> RiskWarning:
    existing = RiskWarning.objects.filter(followup=followup).first()
    if existing is not None:
        return existing
    loan = _loan_for_message(followup.loan_id)
    opened_at = timezone.now()
    warning = RiskWarning(
        loan=loan,
        followup=followup,
        branch_id=loan.branch_id,
        level=level,
        signals=signals,
        summary=summary,
        opened_at=opened_at,
        acknowledge_due_at=acknowledge_due(opened_at),
    )
    warning._history_user = followup.completed_by
    with transaction.atomic():
        try:
            # A savepoint: a concurrent caller that won the one-per-follow-up constraint leaves the outer
            # transaction usable, and its warning is the one returned.
            with transaction.atomic():
                warning.save()
        except IntegrityError:
            existing = RiskWarning.objects.filter(followup=followup).first()
            if existing is None:
                raise
            return existing
        for officer in _branch_staff(loan.branch_id, Role.RISK_OFFICER):
            _notify(
                officer,
                OPENED_TEMPLATE,
                key=f"followup-warning:{warning.pk}:{officer.pk}",
                warning=warning,
                loan=loan,
            )
    return warning


# --- notifications ------------------------------------------------------------------------------------------------
def _branch_staff(branch_id: int, role: str) -> list[User]:
    """Active staff of a branch in a role, with an email address to write to."""
    return list(holders_of(role).filter(branch_id=branch_id).exclude(email="").distinct().order_by("pk"))


def _loan_for_message(loan_id: int) -> Loan:
    return Loan.objects.select_related("borrower").only("pk", "branch_id", "number", "borrower__name").get(pk=loan_id)


def _notify(user: User, template: str, *, key: str, warning: RiskWarning, loan: Loan, **context) -> OutboxMessage:
    language = user.preferred_language
    with translation.override(language):
        context = {
            "name": str(user),
            "loan": loan.number,
            "borrower": loan.borrower.name,
            "level": str(RiskLevel(warning.level).label),
            "signals": ", ".join(str(RiskSignal(value).label) for value in warning.signals),
            "summary": warning.summary,
            "acknowledge_by": date_format(timezone.localtime(warning.acknowledge_due_at, SHANGHAI), "DATETIME_FORMAT"),
            **context,
        }
    return message_queue(
        key=key,
        channel=OutboxMessage.Channel.EMAIL,
        template=template,
        to_address=user.email,
        context=context,
        language=language,
        audience=OutboxMessage.Audience.STAFF,
        recipient=user,
    )


# --- handling -----------------------------------------------------------------------------------------------------
def _require_handler(by: User, warning: RiskWarning) -> None:
    require(by, "warning.handle")
    require_in_scope(by, warning, _("This warning belongs to another branch."))


def _lock(warning: RiskWarning) -> RiskWarning:
    return RiskWarning.objects.select_for_update().get(pk=warning.pk)


def _refresh(warning: RiskWarning, locked: RiskWarning) -> None:
    """Copy the saved state onto the caller's instance, so it sees what the service did."""
    for field in ("status", "acknowledged_by_id", "acknowledged_at", "resolved_by_id", "resolved_at", "resolution"):
        setattr(warning, field, getattr(locked, field))


def _acknowledge(locked: RiskWarning, by: User) -> bool:
    """open → acknowledged, with a conditional update; False when it was not open any more."""
    now = timezone.now()
    updated = RiskWarning.objects.filter(pk=locked.pk, status=WarningStatus.OPEN).update(
        status=WarningStatus.ACKNOWLEDGED, acknowledged_by=by, acknowledged_at=now
    )
    if updated:
        locked.status, locked.acknowledged_by, locked.acknowledged_at = WarningStatus.ACKNOWLEDGED, by, now
        record_history(locked, by)
    return bool(updated)


def _clean_note(note: str | None, field: str = "note") -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise ValidationError({field: _("At most %(count)s characters, please.") % {"count": MAX_NOTE_LENGTH}})
    return note


def warning_acknowledge(*, warning: RiskWarning, by: User, note: str = "") -> RiskWarning:
    """A risk officer of the branch takes the warning on (open → acknowledged); a note is kept as an action."""
    _require_handler(by, warning)
    note = _clean_note(note)
    with transaction.atomic():
        locked = _lock(warning)
        if not _acknowledge(locked, by):
            raise TransitionError(
                _("This warning is already “%(status)s”; only an open warning can be acknowledged.")
                % {"status": locked.get_status_display()}
            )
        if note:
            WarningAction.objects.create(warning=locked, kind=WarningAction.Kind.NOTE, note=note, by=by)
    _refresh(warning, locked)
    return warning


def warning_resolve(*, warning: RiskWarning, by: User, resolution: str) -> RiskWarning:
    """Close an acknowledged warning with what was done about it (acknowledged → resolved)."""
    _require_handler(by, warning)
    resolution = clean_text(resolution, "resolution", _("Say how the risk was dealt with."), MAX_NOTE_LENGTH)
    with transaction.atomic():
        locked = _lock(warning)
        now = timezone.now()
        updated = RiskWarning.objects.filter(pk=locked.pk, status=WarningStatus.ACKNOWLEDGED).update(
            status=WarningStatus.RESOLVED, resolved_by=by, resolved_at=now, resolution=resolution
        )
        if not updated:
            if locked.status == WarningStatus.OPEN:
                raise TransitionError(_("Acknowledge this warning before resolving it."))
            raise TransitionError(_("This warning is already resolved."))
        locked.status, locked.resolved_by, locked.resolved_at, locked.resolution = (
            WarningStatus.RESOLVED,
            by,
            now,
            resolution,
        )
        record_history(locked, by)
    _refresh(warning, locked)
    return warning


def _begin_action(warning: RiskWarning, by: User) -> RiskWarning:
    """Lock a warning that is still being handled; acknowledge it, by the person acting, if it is open."""
    locked = _lock(warning)
    if locked.status == WarningStatus.RESOLVED:
        raise TransitionError(_("This warning is resolved; no more actions can be taken on it."))
    _acknowledge(locked, by)
    return locked


def _record(warning: RiskWarning, locked: RiskWarning, *, kind: str, by: User, note: str, reference: str):
    action = WarningAction.objects.create(warning=locked, kind=kind, note=note, reference=reference, by=by)
    _refresh(warning, locked)
    return action


def warning_request_extra_followup(*, warning: RiskWarning, by: User, due_on: date, note: str = "") -> WarningAction:
    """Plan an extra follow-up of the loan, for the loan's officer, due on `due_on` (today or later)."""
    _require_handler(by, warning)
    note = _clean_note(note)
    if not isinstance(due_on, date) or isinstance(due_on, datetime):
        raise ValidationError({"due_on": _("Enter the date the follow-up is due.")})
    if due_on < local_today():
        raise ValidationError({"due_on": _("The follow-up cannot be due in the past.")})
    with transaction.atomic():
        locked = _begin_action(warning, by)
        # The loan row lock keeps two extra follow-ups planned at once from taking the same sequence number.
        loan = Loan.objects.select_for_update().get(pk=locked.loan_id)
        if not loan.is_open:
            raise TransitionError(
                _("Follow-ups are planned only for an active or overdue loan; this one is “%(status)s”.")
                % {"status": loan.get_status_display()}
            )
        last = FollowUp.objects.filter(loan=loan, kind=FollowUpKind.EXTRA).aggregate(last=Max("sequence"))["last"]
        followup = FollowUp(
            loan=loan,
            kind=FollowUpKind.EXTRA,
            sequence=(last or 0) + 1,
            branch_id=loan.branch_id,
            officer_id=loan.officer_id,
            due_on=due_on,
            planned_on=due_on,
        )
        followup._history_user = by
        followup.save()
        return _record(
            warning,
            locked,
            kind=WarningAction.Kind.EXTRA_FOLLOWUP,
            by=by,
            note=note,
            reference=f"followup:{followup.pk}",
        )


def warning_request_restructuring(*, warning: RiskWarning, by: User, **options) -> WarningAction:
    """Ask for a new schedule through `postloan.services.restructuring_request` (its options: reason, extend_months,
    new_method, grace_months, new_rate, first_due_date); its refusals pass through and nothing is recorded."""
    _require_handler(by, warning)
    options.setdefault("source_note", _("Risk warning %(id)s") % {"id": warning.pk})
    with transaction.atomic():
        locked = _begin_action(warning, by)
        loan = Loan.objects.get(pk=locked.loan_id)
        restructuring = restructuring_request(loan=loan, by=by, **options)
        return _record(
            warning,
            locked,
            kind=WarningAction.Kind.RESTRUCTURING,
            by=by,
            note=restructuring.reason,
            reference=f"restructuring:{restructuring.pk}",
        )


def warning_request_classification(
    *, warning: RiskWarning, by: User, proposed_class: str, reason: str
) -> WarningAction:
    """Propose a worse classification through `postloan.services.classification_propose`; a manager decides."""
    _require_handler(by, warning)
    with transaction.atomic():
        locked = _begin_action(warning, by)
        loan = Loan.objects.get(pk=locked.loan_id)
        proposal = classification_propose(loan=loan, by=by, proposed_class=proposed_class, reason=reason)
        return _record(
            warning,
            locked,
            kind=WarningAction.Kind.CLASSIFICATION,
            by=by,
            note=proposal.reason,
            reference=f"classification:{proposal.pk}",
        )


def warning_escalate(*, warning: RiskWarning, by: User, note: str) -> WarningAction:
    """Tell the branch managers about the warning by email, with a note; refused when no manager has an address."""
    _require_handler(by, warning)
    note = clean_text(note, "note", _("Say what the manager should know or decide."), MAX_NOTE_LENGTH)
    with transaction.atomic():
        locked = _begin_action(warning, by)
        managers = _branch_staff(locked.branch_id, Role.MANAGER)
        if not managers:
            raise TransitionError(
                _("No manager of this branch has an email address, so nobody can be told; call the manager instead.")
            )
        # Whom it was sent to: the outbox rows are what it created.
        reference = ", ".join(str(manager) for manager in managers)[:100]
        action = _record(warning, locked, kind=WarningAction.Kind.ESCALATION, by=by, note=note, reference=reference)
        loan = _loan_for_message(locked.loan_id)
        for manager in managers:
            _notify(
                manager,
                ESCALATED_TEMPLATE,
                key=f"followup-warning-escalated:{action.pk}:{manager.pk}",
                warning=locked,
                loan=loan,
                note=note,
                by=str(by),
            )
        return action


# --- reads --------------------------------------------------------------------------------------------------------
def warnings_queue(*, user: User, now: datetime | None = None) -> QuerySet:
    """The warnings the user's branch is handling (open and acknowledged), oldest first, with `is_ack_breached`."""
    queryset = (
        scope(RiskWarning.objects.filter(status__in=HANDLING_STATUSES), user)
        .select_related("loan__borrower", "acknowledged_by")
        .defer("loan__borrower__identity_number")
        .order_by("opened_at", "pk")
    )
    return annotate_ack_breach(queryset, now=now)


def warnings_for_loan(loan: Loan, *, now: datetime | None = None) -> QuerySet:
    """Every warning of a loan, newest first, with its actions and `is_ack_breached`."""
    queryset = (
        RiskWarning.objects.filter(loan=loan)
        .select_related("followup", "acknowledged_by", "resolved_by")
        .prefetch_related("actions__by")
        .order_by("-opened_at", "-pk")
    )
    return annotate_ack_breach(queryset, now=now)
