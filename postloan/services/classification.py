"""Five-category classification (五级分类, DESIGN.md §4): the floor that days past due set, and manual classification.

- The floor: normal; special mention at DPD ≥ 1 or while a restructured loan is in observation; substandard at
  DPD > 90; doubtful at DPD > 270; loss at DPD > 360. `classification_floor` and `worse_of` are pure functions that the
  daily sweep and the services below share.
- A risk officer proposes a worse class with a reason; a manager who is not the proposer approves it (maker-checker).
  While approved it is the loan's `manual_classification`: the sweep keeps the loan at least there, and never
  improves it, until a manager clears it; the loan then goes to its floor at once.
- Every change of `Loan.classification` writes one `ClassificationChange` (from, to, why, by whom) and a timeline row.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.permissions import require, require_checker
from core.dates import local_today

from ..models import (
    Classification,
    ClassificationChange,
    ClassificationProposal,
    ClassificationSource,
    Loan,
    LoanEvent,
    ProposalStatus,
    TransitionError,
)
from ..models.base import record_history
from .common import clean_text, loan_event, require_in_scope
from .ledger import lock_loan

# Best to worst, in the order the choices are declared.
_RANK = {value: rank for rank, value in enumerate(Classification.values)}


def class_rank(classification: str) -> int:
    """0 for normal … 4 for loss."""
    return _RANK[classification]


def worse_of(*classifications: str) -> str:
    """The worst of the given classes; blanks (no manual classification) are ignored."""
    return max((value for value in classifications if value), key=class_rank)


@dataclass(frozen=True)
class Floor:
    """The best class a loan may have on a day, and the rule that sets it, in words."""

    classification: str
    reason: str


def classification_floor(*, dpd: int, restructured: bool, observation_until: date | None, on: date) -> Floor:
    """The floor of DESIGN.md §4 for a loan `dpd` days past due on `on`; no database access."""
    if dpd > 360:
        return Floor(Classification.LOSS, _("%(days)s days past due: loss") % {"days": dpd})
    if dpd > 270:
        return Floor(Classification.DOUBTFUL, _("%(days)s days past due: at least doubtful") % {"days": dpd})
    if dpd > 90:
        return Floor(Classification.SUBSTANDARD, _("%(days)s days past due: at least substandard") % {"days": dpd})
    if dpd >= 1:
        reason = ngettext(
            "%(days)s day past due: at least special mention", "%(days)s days past due: at least special mention", dpd
        )
        return Floor(Classification.SPECIAL_MENTION, reason % {"days": dpd})
    if restructured and observation_until is not None and on <= observation_until:
        return Floor(
            Classification.SPECIAL_MENTION,
            _("Restructured, in observation until %(date)s: at least special mention")
            % {"date": date_format(observation_until)},
        )
    return Floor(Classification.NORMAL, _("Nothing past due and not in observation: normal"))


def sweep_classification(*, current: str, manual: str, floor: Floor) -> tuple[str, str] | None:
    """The class the daily sweep sets and why, or None when the loan keeps its class.

    Without a manual classification the loan follows its floor both ways. With one in force the sweep only makes it
    worse: the worst of the current class, the floor and the manual class.
    """
    target = worse_of(current, floor.classification, manual) if manual else floor.classification
    if target == current:
        return None
    if target == floor.classification:
        return target, floor.reason
    return target, _("Manual classification in force: at least %(classification)s") % {
        "classification": Classification(target).label
    }


# --- manual classification ----------------------------------------------------------------------------------------
def classification_propose(*, loan: Loan, by: User, proposed_class: str, reason: str) -> ClassificationProposal:
    """A risk officer asks for a worse class than the loan's current one, with a reason; a manager decides."""
    require(by, "classification.propose")
    require_in_scope(by, loan, _("This loan belongs to another branch."))
    if proposed_class not in Classification.values:
        raise ValidationError({"proposed_class": _("Choose a classification.")})
    reason = clean_text(reason, "reason", _("Say why the loan should be classified worse."), 2000)
    with transaction.atomic():
        locked = lock_loan(loan)
        if not locked.is_open:
            raise TransitionError(
                _("Only an active or overdue loan can be classified; this one is “%(status)s”.")
                % {"status": locked.get_status_display()}
            )
        if class_rank(proposed_class) <= class_rank(locked.classification):
            raise ValidationError(
                {
                    "proposed_class": _(
                        "A manual classification can only be worse than the loan's current one (“%(current)s”)."
                    )
                    % {"current": locked.get_classification_display()}
                }
            )
        waiting = (
            ClassificationProposal.objects.select_related("proposed_by")
            .filter(loan=locked, status=ProposalStatus.PROPOSED)
            .first()
        )
        if waiting is not None:
            raise TransitionError(_already_waiting(waiting))
        proposal = ClassificationProposal(loan=locked, proposed_class=proposed_class, reason=reason, proposed_by=by)
        proposal._history_user = by
        try:
            with transaction.atomic():
                proposal.save()
        except IntegrityError:
            # The loan lock makes this unlikely; the partial unique index is the last word.
            raise TransitionError(
                _("Someone else has just proposed a classification for this loan. Nothing was saved.")
            ) from None
    return proposal


def _already_waiting(waiting: ClassificationProposal) -> str:
    return _(
        "A manual classification of this loan as “%(classification)s”, proposed by %(name)s, is already waiting for "
        "approval; it must be approved or rejected first."
    ) % {"classification": waiting.get_proposed_class_display(), "name": waiting.proposed_by}


def _require_waiting(proposal: ClassificationProposal) -> None:
    if proposal.status != ProposalStatus.PROPOSED:
        raise TransitionError(
            _("This proposal is no longer waiting for a decision; it is “%(status)s”.")
            % {"status": proposal.get_status_display()}
        )


def _set_classification(
    loan: Loan, *, manual: str, to_class: str, source: str, reason: str, by: User, today: date, **data
) -> None:
    """Save the loan's manual and current class (the loan is locked) and record the change and a timeline row."""
    from_class = loan.classification
    now = timezone.now()
    Loan.objects.filter(pk=loan.pk).update(manual_classification=manual, classification=to_class, updated_at=now)
    loan.manual_classification, loan.classification, loan.updated_at = manual, to_class, now
    record_history(loan, by)
    if to_class != from_class:
        ClassificationChange.objects.create(
            loan=loan,
            from_class=from_class,
            to_class=to_class,
            source=source,
            reason=reason,
            dpd=loan.dpd,
            business_date=today,
            by=by,
        )
    loan_event(
        loan,
        kind=LoanEvent.Kind.CLASSIFICATION,
        by=by,
        note=reason,
        source=source,
        from_class=from_class,
        to_class=to_class,
        manual=manual,
        dpd=loan.dpd,
        **data,
    )


def _floor_now(loan: Loan, today: date) -> Floor:
    # The loan's DPD as the last sweep (or repayment) left it: the class stays consistent with the DPD shown.
    return classification_floor(
        dpd=loan.dpd, restructured=loan.restructured, observation_until=loan.observation_until, on=today
    )


def classification_approve(*, proposal: ClassificationProposal, by: User, note: str = "") -> ClassificationProposal:
    """A manager other than the proposer approves: the class becomes the loan's manual classification, and the loan
    takes the worse of it and its floor at once. A manual class already in force gives way to this one."""
    require(by, "classification.approve")
    require_in_scope(by, proposal.loan, _("This loan belongs to another branch."))
    require_checker(by, proposal.proposed_by_id)
    note = (note or "").strip()
    with transaction.atomic():
        loan = lock_loan(proposal.loan)
        current = ClassificationProposal.objects.get(pk=proposal.pk)
        _require_waiting(current)
        now, today = timezone.now(), local_today()
        for in_force in ClassificationProposal.objects.filter(loan=loan, status=ProposalStatus.APPROVED):
            ClassificationProposal.objects.filter(pk=in_force.pk, status=ProposalStatus.APPROVED).update(
                status=ProposalStatus.CLEARED,
                cleared_by=by,
                cleared_at=now,
                clear_reason=_("Replaced by a later manual classification."),
            )
            in_force.refresh_from_db()
            record_history(in_force, by)
        # Conditional: of two managers approving at once, the second finds it decided and changes nothing.
        updated = ClassificationProposal.objects.filter(pk=current.pk, status=ProposalStatus.PROPOSED).update(
            status=ProposalStatus.APPROVED, decided_by=by, decided_at=now, decision_note=note
        )
        if not updated:
            raise TransitionError(_("Someone else has just decided on this proposal. Nothing was saved."))
        current.status, current.decided_by, current.decided_at, current.decision_note = (
            ProposalStatus.APPROVED,
            by,
            now,
            note,
        )
        record_history(current, by)
        floor = _floor_now(loan, today)
        _set_classification(
            loan,
            manual=current.proposed_class,
            to_class=worse_of(current.proposed_class, floor.classification),
            source=ClassificationSource.MANUAL,
            reason=current.reason,
            by=by,
            today=today,
            proposal=current.pk,
            proposed_by=current.proposed_by_id,
        )
    proposal.refresh_from_db()
    return proposal


def classification_reject(*, proposal: ClassificationProposal, by: User, note: str) -> ClassificationProposal:
    """A manager other than the proposer turns the proposal down, saying why; the loan's class does not change."""
    require(by, "classification.approve")
    require_in_scope(by, proposal.loan, _("This loan belongs to another branch."))
    require_checker(by, proposal.proposed_by_id)
    note = clean_text(note, "note", _("Say why the proposal is rejected."), 2000)
    with transaction.atomic():
        current = ClassificationProposal.objects.get(pk=proposal.pk)
        _require_waiting(current)
        now = timezone.now()
        updated = ClassificationProposal.objects.filter(pk=current.pk, status=ProposalStatus.PROPOSED).update(
            status=ProposalStatus.REJECTED, decided_by=by, decided_at=now, decision_note=note
        )
        if not updated:
            raise TransitionError(_("Someone else has just decided on this proposal. Nothing was saved."))
        current.status, current.decided_by, current.decided_at, current.decision_note = (
            ProposalStatus.REJECTED,
            by,
            now,
            note,
        )
        record_history(current, by)
    proposal.refresh_from_db()
    return proposal


def classification_clear(*, loan: Loan, by: User, reason: str) -> ClassificationProposal:
    """A manager ends the manual classification in force; the loan goes to its floor now. Returns the cleared one."""
    require(by, "classification.clear")
    require_in_scope(by, loan, _("This loan belongs to another branch."))
    reason = clean_text(reason, "reason", _("Say why the manual classification is cleared."), 2000)
    with transaction.atomic():
        locked = lock_loan(loan)
        in_force = ClassificationProposal.objects.filter(loan=locked, status=ProposalStatus.APPROVED).first()
        if in_force is None:
            raise TransitionError(_("No manual classification is in force on this loan."))
        now, today = timezone.now(), local_today()
        updated = ClassificationProposal.objects.filter(pk=in_force.pk, status=ProposalStatus.APPROVED).update(
            status=ProposalStatus.CLEARED, cleared_by=by, cleared_at=now, clear_reason=reason
        )
        if not updated:
            raise TransitionError(_("Someone else has just cleared this manual classification. Nothing was saved."))
        in_force.status, in_force.cleared_by, in_force.cleared_at, in_force.clear_reason = (
            ProposalStatus.CLEARED,
            by,
            now,
            reason,
        )
        record_history(in_force, by)
        _set_classification(
            locked,
            manual="",
            to_class=_floor_now(locked, today).classification,
            source=ClassificationSource.CLEARED,
            reason=reason,
            by=by,
            today=today,
            proposal=in_force.pk,
        )
    loan.refresh_from_db()
    return in_force
